import { describe, expect, it } from "vitest";
import {
  emptyFieldRow,
  mappingToRows,
  parseMappingJson,
  rowsToMapping,
  rowsToStatusMap,
  rowToSpec,
  slugError,
  slugify,
  specToRow,
  splitList,
  statusMapToRows,
} from "./mapping";
import { emptyDraft, resolveMapping, switchView, validateDraft, withName, withSlug } from "./providerDraft";

describe("slugify (mirrors the server's)", () => {
  it("lower-cases and joins words with single hyphens", () => {
    expect(slugify("Sales IVR (North)")).toBe("sales-ivr-north");
    expect(slugify("  Billing -- Desk!  ")).toBe("billing-desk");
    expect(slugify("Ünïcode Café 24/7")).toBe("ncode-caf-24-7");
    expect(slugify("")).toBe("");
  });
  it("caps the slug at 48 characters without a trailing hyphen", () => {
    const s = slugify(`${"a".repeat(47)} b`);
    expect(s).toBe("a".repeat(47));
    expect(slugify("x".repeat(60))).toHaveLength(48);
  });
  it("checks slugs like the server", () => {
    expect(slugError("sales-ivr")).toBeNull();
    expect(slugError("all")).toMatch(/reserved/);
    expect(slugError("Sales")).toMatch(/lowercase/);
    expect(slugError("-x")).toMatch(/lowercase/);
    expect(slugError("")).toMatch(/required/);
  });
});

describe("slug as you type", () => {
  it("follows the name while creating, until typed by hand", () => {
    let d = emptyDraft();
    for (const name of ["S", "Sa", "Sales", "Sales I", "Sales IVR"]) d = withName(d, name, true);
    expect(d.slug).toBe("sales-ivr");
    d = withSlug(d, "sales");
    d = withName(d, "Sales IVR North", true);
    expect(d.slug).toBe("sales");
    // Clearing the slug makes it follow the name again.
    d = withSlug(d, "");
    expect(validateDraft(d, true).create.slug).toBe("sales-ivr-north");
    d = withName(d, "Support", true);
    expect(d.slug).toBe("support");
  });
  it("never changes the slug of an existing provider", () => {
    const d = withName({ ...emptyDraft(), slug: "sales", slugEdited: true }, "Renamed", false);
    expect(d.slug).toBe("sales");
  });
});

describe("mapping rows ⇄ JSON", () => {
  const docExample = {
    call_id: "data.id",
    mobile_number: { path: "data.raw_digits | data.from", transform: "e164:91", required: true },
    caller_name: { path: "data.contact.name", transform: ["trim", "upper"] },
    direction: { path: "data.direction", default: "inbound" },
    constant: { default: "x" },
    duration: { path: "answered", to: "ended", transform: "seconds_between" },
    flag: { path: "f", default: 0 },
    nothing: null,
  };

  it("round-trips every spec exactly", () => {
    const rows = mappingToRows(docExample);
    const { mapping, errors } = rowsToMapping(rows);
    expect(errors).toEqual({});
    expect(mapping).toEqual(docExample);
  });

  it("shows simple specs in the inputs and the rest as JSON", () => {
    const rows = Object.fromEntries(mappingToRows(docExample).map((r) => [r.target, r]));
    expect(rows.call_id).toMatchObject({ json: false, path: "data.id", transform: "" });
    expect(rows.mobile_number).toMatchObject({ json: false, transform: "e164:91", required: true });
    expect(rows.caller_name).toMatchObject({ json: false, transform: "trim, upper" });
    expect(rows.constant).toMatchObject({ json: false, path: "", default: "x" });
    // `to`, a non-text default and null are kept as JSON so nothing is lost.
    expect(rows.duration?.json).toBe(true);
    expect(rows.flag?.json).toBe(true);
    expect(rows.nothing).toMatchObject({ json: true, raw: "null" });
    // A typo (`transfrom`) is kept as written, for the server to name it.
    expect(specToRow("x", { path: "a", transfrom: "trim" })).toMatchObject({
      json: true,
      raw: '{"path":"a","transfrom":"trim"}',
    });
  });

  it("writes a bare path when nothing else is set, else the object form", () => {
    const row = { ...emptyFieldRow("did"), path: " data.number " };
    expect(rowToSpec(row)).toEqual({ spec: "data.number", error: null });
    expect(rowToSpec({ ...row, transform: "trim, e164" }).spec).toEqual({
      path: "data.number",
      transform: ["trim", "e164"],
    });
    expect(rowToSpec({ ...row, required: true }).spec).toEqual({ path: "data.number", required: true });
  });

  it("says what to fix: missing path, duplicate target, bad JSON", () => {
    const rows = [
      { ...emptyFieldRow("call_id"), path: "id" },
      { ...emptyFieldRow("did") },
      { ...emptyFieldRow("call_id"), path: "other" },
      { ...emptyFieldRow("x"), json: true, raw: "{path:" },
      { ...emptyFieldRow(""), path: "orphan" },
      emptyFieldRow(), // untouched: ignored
    ];
    const { mapping, errors } = rowsToMapping(rows);
    expect(mapping).toEqual({ call_id: "id" });
    const msgs = rows.map((r) => errors[r.key]);
    expect(msgs[0]).toBeUndefined();
    expect(msgs[1]).toMatch(/path, or a default/);
    expect(msgs[2]).toMatch(/mapped twice/);
    expect(msgs[3]).toMatch(/Not valid JSON/);
    expect(msgs[4]).toMatch(/target/);
    expect(msgs[5]).toBeUndefined();
  });

  it("converts the status map, refusing words that differ only in case", () => {
    const rows = statusMapToRows({ ANSWERED: "active", "no-answer": "missed" });
    expect(rowsToStatusMap(rows)).toEqual({ map: { ANSWERED: "active", "no-answer": "missed" }, errors: {} });
    const dup = [...rows, { key: "k", word: " answered ", status: "completed" }];
    expect(rowsToStatusMap(dup).errors.k).toMatch(/already mapped/);
    expect(rowsToStatusMap([{ key: "b", word: "x", status: "bogus" }]).errors.b).toMatch(/Choose one of/);
  });

  it("parses the JSON view, wrapped or bare", () => {
    expect(parseMappingJson('{"field_mapping":{"call_id":"id"},"status_map":{"up":"active"}}')).toEqual({
      fieldMapping: { call_id: "id" },
      statusMap: { up: "active" },
      error: null,
    });
    expect(parseMappingJson('{"call_id":"id"}')).toEqual({
      fieldMapping: { call_id: "id" },
      statusMap: {},
      error: null,
    });
    expect(parseMappingJson("[1]").error).toMatch(/object/);
    expect(parseMappingJson('{"field_mapping":{},"extra":1}').error).toMatch(/extra/);
  });

  it("switches rows → JSON → rows without losing anything", () => {
    let d = { ...emptyDraft(), fields: mappingToRows(docExample), statuses: statusMapToRows({ up: "active" }) };
    const before = resolveMapping(d);
    d = switchView(d, "json").draft;
    expect(d.view).toBe("json");
    expect(resolveMapping(d)).toMatchObject({ fieldMapping: docExample, statusMap: { up: "active" }, ok: true });
    d = switchView({ ...d, json: d.json.replace('"up"', '"UP"') }, "rows").draft;
    expect(d.view).toBe("rows");
    expect(resolveMapping(d).fieldMapping).toEqual(before.fieldMapping);
    expect(resolveMapping(d).statusMap).toEqual({ UP: "active" });
    expect(switchView({ ...d, view: "json", json: "{" }, "rows").error).toMatch(/Not valid JSON/);
  });
});

describe("form validation", () => {
  it("requires a name and a positive whole SLA", () => {
    const d = { ...emptyDraft(), sla: "0" };
    const v = validateDraft(d, true);
    expect(v.ok).toBe(false);
    expect(v.errors.name).toMatch(/required/);
    expect(v.errors.sla).toMatch(/positive whole number/);
    expect(validateDraft({ ...d, sla: "1.5" }, true).errors.sla).toMatch(/positive whole number/);
    const ok = validateDraft(
      withName({ ...d, sla: "15", dids: "+91 80 4567 8900, 1800-123\n" }, "Sales IVR", true),
      true,
    );
    expect(ok.errors).toEqual({});
    expect(ok.create).toMatchObject({
      name: "Sales IVR",
      slug: "sales-ivr",
      sla_minutes: 15,
      did_numbers: ["+91 80 4567 8900", "1800-123"],
    });
    expect(ok.create.display_order).toBeUndefined();
  });
  it("a new provider maps Callboard's own field names", () => {
    expect(resolveMapping(emptyDraft()).fieldMapping).toMatchObject({ call_id: "call_id", status: "status" });
  });
  it("splits comma and line lists", () => {
    expect(splitList("a, b\n\nc,a ,")).toEqual(["a", "b", "c"]);
  });
});
