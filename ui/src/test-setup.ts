// The unit tests run beside the Rust build in CI (scripts/test), two cores
// for both: typing into a large form in jsdom can take seconds, which is
// slowness, not failure.
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

configure({ asyncUtilTimeout: 10_000 });

// The test files share one jsdom per worker (`isolate: false`, 3-4x faster
// than a fresh environment per file): each test leaves an empty document.
afterEach(() => {
  cleanup();
});
