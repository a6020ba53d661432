import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { ScreenBoundary } from "./ScreenBoundary";

afterEach(cleanup);

let broken = true;
function Fragile() {
  if (broken) throw new Error("the figures could not be read");
  return <p>Screen content</p>;
}

describe("ScreenBoundary", () => {
  it("shows the fault and Retry instead of nothing, and Retry renders the screen again", () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    broken = true;
    render(
      <div>
        <nav>Sidebar</nav>
        <ScreenBoundary name="Live">
          <Fragile />
        </ScreenBoundary>
      </div>,
    );
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("The Live screen could not be shown.");
    expect(alert.textContent).toContain("the figures could not be read");
    expect(screen.getByText("Sidebar")).toBeTruthy();
    broken = false;
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(screen.getByText("Screen content")).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
    quiet.mockRestore();
  });
});
