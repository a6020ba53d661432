// A minimal W3C WebDriver client over fetch: enough to drive the real Tauri
// window through tauri-driver and WebKitWebDriver.
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async call(method, path, body) {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) {
      const v = json.value ?? {};
      const e = new Error(`${method} ${path}: ${r.status} ${v.error ?? ""} ${v.message ?? ""}`);
      e.webdriver = v.error;
      throw e;
    }
    return json.value;
  }

  async start(application) {
    const v = await this.call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application } } },
    });
    this.session = v.sessionId;
    return this;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async find(using, value) {
    const v = await this.call("POST", this.s("/element"), { using, value });
    return v[ELEMENT];
  }

  async findAll(using, value) {
    const v = await this.call("POST", this.s("/elements"), { using, value });
    return v.map((e) => e[ELEMENT]);
  }

  /** Polls until `using`/`value` matches (the window renders asynchronously). */
  async waitFor(using, value, timeoutMs = 20_000) {
    const until = Date.now() + timeoutMs;
    let last;
    while (Date.now() < until) {
      try {
        return await this.find(using, value);
      } catch (e) {
        last = e;
        await sleep(150);
      }
    }
    throw new Error(`timed out waiting for ${using} ${value}: ${last?.message}`);
  }

  async waitUntil(what, fn, timeoutMs = 20_000) {
    const until = Date.now() + timeoutMs;
    let last;
    while (Date.now() < until) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
  }

  click(el) {
    return this.call("POST", this.s(`/element/${el}/click`), {});
  }

  clear(el) {
    return this.call("POST", this.s(`/element/${el}/clear`), {});
  }

  type(el, text) {
    return this.call("POST", this.s(`/element/${el}/value`), { text });
  }

  text(el) {
    return this.call("GET", this.s(`/element/${el}/text`));
  }

  execute(script, args = []) {
    return this.call("POST", this.s("/execute/sync"), { script, args });
  }

  async screenshot() {
    // WebKit paints asynchronously: let the last change reach the screen.
    await sleep(400);
    return Buffer.from(await this.call("GET", this.s("/screenshot")), "base64");
  }

  async end() {
    if (this.session) await this.call("DELETE", this.s("")).catch(() => {});
    this.session = null;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
