import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, client, configure, setUnauthorizedHandler, settle, unwrap } from "./client";

const seen: Request[] = [];

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function stub(res: () => Response | Promise<Response>) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (req: Request) => {
      seen.push(req);
      return res();
    }),
  );
}

beforeEach(() => {
  seen.length = 0;
  configure({ base: "http://cb.test", token: "t0ken" });
});

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
  configure({ base: "", token: null, csrf: null });
});

describe("the typed client", () => {
  it("fills the path, leaves empty query values out and sends the bearer token", async () => {
    stub(() => answer(200, { id: 1 }));
    await unwrap(
      client().GET("/api/calls/{call_id}", { params: { path: { call_id: "a/b c" }, query: { department: "" } } }),
    );
    const req = seen[0]!;
    expect(req.url).toBe("http://cb.test/api/calls/a%2Fb%20c");
    expect(req.headers.get("authorization")).toBe("Bearer t0ken");
  });

  it("turns the server's error into an ApiError with its code, and a 401 ends the session", async () => {
    stub(() => answer(401, { error: { code: "invalid_token", message: "expired" } }));
    const ended = vi.fn();
    setUnauthorizedHandler(ended);
    const err = await unwrap(client().GET("/api/auth/me")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).code).toBe("invalid_token");
    expect((err as ApiError).message).toBe("Your session has ended. Please sign in again.");
    expect(ended).toHaveBeenCalledExactlyOnceWith("invalid_token");
  });

  it("in a browser sends no token but the cookie session's CSRF token with every change, never with a read", async () => {
    configure({ token: null, csrf: "c5rf" });
    stub(() => answer(200, {}));
    await unwrap(client().GET("/api/auth/me"));
    await unwrap(client().POST("/api/auth/logout"));
    const [read, change] = seen;
    expect(read!.headers.get("authorization")).toBeNull();
    expect(read!.headers.get("x-csrf-token")).toBeNull();
    expect(change!.headers.get("x-csrf-token")).toBe("c5rf");
  });

  it("names an answer that is not the server's error shape by its status", async () => {
    stub(() => answer(502, "<html>bad gateway</html>", { "content-type": "text/html" }));
    const err = (await unwrap(client().GET("/api/stats")).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe("http_502");
  });

  it("reports an unreachable server as a network error", async () => {
    stub(() => Promise.reject(new TypeError("Failed to fetch")));
    const err = (await unwrap(client().GET("/api/stats")).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.code).toBe("network");
  });

  it("settle hands back the response with the data (a download reads its headers)", async () => {
    stub(
      () =>
        new Response("a,b\n1,2\n", {
          status: 200,
          headers: { "content-type": "text/csv", "content-disposition": 'attachment; filename="calls.csv"' },
        }),
    );
    const { data, response } = await settle(
      client().GET("/api/calls/export.csv", { params: { query: { bom: true } }, parseAs: "blob" }),
    );
    expect(await data.text()).toBe("a,b\n1,2\n");
    expect(response.headers.get("content-disposition")).toContain("calls.csv");
    expect(seen[0]!.url).toBe("http://cb.test/api/calls/export.csv?bom=true");
  });
});
