import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { TemplateDownload } from "./TemplateDownload";

describe("TemplateDownload", () => {
  it("offers the preset's file under its own name, byte for byte", () => {
    const text = '<?xml version="1.0"?>\n<Crm Name="Callboard">[Number] & #1</Crm>\n';
    render(<TemplateDownload template={{ file_name: "callboard-3cx.xml", media_type: "application/xml", text }} />);
    const link = screen.getByTestId("preset-template");
    expect(link.getAttribute("download")).toBe("callboard-3cx.xml");
    const href = link.getAttribute("href") ?? "";
    expect(href.startsWith("data:application/xml;charset=utf-8,")).toBe(true);
    expect(decodeURIComponent(href.slice(href.indexOf(",") + 1))).toBe(text);
  });

  it("shows nothing for a preset without a file", () => {
    const { container } = render(<TemplateDownload template={undefined} />);
    expect(container.textContent).toBe("");
  });
});
