// The unit tests share two cores with builds: typing into a large form in
// jsdom can take seconds, which is slowness, not failure.
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 5000 });
