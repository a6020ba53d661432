// Who is signed in. In a browser the session lives in the server's HttpOnly
// cookie (script never sees it, so an injected script cannot steal it) and
// every change carries its CSRF token; the desktop shell hands over a bearer
// token instead (its window is another origin). `me` says the role and
// departments the UI obeys; a 401 from any call signs the console out, with
// a notice when the session ran out.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { client, configure, setUnauthorizedHandler, unwrap } from "./api/client";
import { keys } from "./api/keys";
import type { components } from "./api/schema";
import type { Me } from "./api/types";

type LoginResponse = components["schemas"]["LoginResponse"];
import { desktopConfig } from "./desktop/bridge";

/** Where earlier versions kept the token; removed on sight. */
const LEGACY_TOKEN_KEY = "callboard.token";

/** Codes that mean the credential is gone (not a wrong password). */
const SIGNED_OUT_CODES = new Set(["missing_token", "invalid_token", "session_expired"]);

interface Session {
  /** Changes at each sign-in: what the event stream reconnects on. */
  epoch: number;
  signedIn: boolean;
  me: Me | undefined;
  loading: boolean;
  isAdmin: boolean;
  /** Why the console is on the sign-in page, when it did not choose to be. */
  notice: string | null;
  /** `totp`: the authenticator code, for a user with two-step sign-in on. */
  signIn: (username: string, password: string, totp?: string) => Promise<void>;
  exchange: (code: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<Session | null>(null);

/** True in the desktop window: a bearer token, no cookie. */
function startDesktop(): boolean {
  const d = desktopConfig();
  if (d) configure({ base: d.apiBase, token: d.token });
  try {
    localStorage.removeItem(LEGACY_TOKEN_KEY);
  } catch {
    // Storage refused (a private window): nothing was kept there either.
  }
  return d !== null;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [desktop] = useState(startDesktop);
  const [epoch, setEpoch] = useState(0);
  const [signedOut, setSignedOut] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const qc = useQueryClient();

  const leave = useCallback(
    (why: string | null) => {
      configure({ csrf: null, ...(desktop ? {} : { token: null }) });
      qc.clear();
      setNotice(why);
      setSignedOut(true);
    },
    [qc, desktop],
  );

  const enter = useCallback(
    (answer: Pick<LoginResponse, "token" | "csrf_token">) => {
      configure(desktop ? { token: answer.token ?? null } : { csrf: answer.csrf_token ?? null });
      qc.clear();
      setNotice(null);
      setSignedOut(false);
      setEpoch((e) => e + 1);
    },
    [qc, desktop],
  );

  useEffect(() => {
    setUnauthorizedHandler((code) => {
      if (!SIGNED_OUT_CODES.has(code)) return;
      leave(
        code === "session_expired"
          ? "You were signed out: the session ended after a time without use, or at the end of its day. Sign in again."
          : null,
      );
    });
    return () => setUnauthorizedHandler(null);
  }, [leave]);

  const meQuery = useQuery({
    queryKey: [...keys.me, epoch],
    queryFn: async () => {
      const me = await unwrap(client().GET("/api/auth/me"));
      // After a reload the CSRF token comes from here, not from the sign-in.
      if (me.csrf_token) configure({ csrf: me.csrf_token });
      return me;
    },
    enabled: !signedOut,
    staleTime: 60_000,
  });

  const value = useMemo<Session>(() => {
    const me = signedOut ? undefined : meQuery.data;
    return {
      epoch,
      signedIn: me !== undefined,
      me,
      loading: !signedOut && meQuery.isPending,
      isAdmin: me?.role === "admin",
      notice,
      signIn: async (username, password, totp) => {
        const body = { username, password, totp, cookie: !desktop };
        enter(await unwrap(client().POST("/api/auth/login", { body })));
      },
      exchange: async (code) => {
        enter(await unwrap(client().POST("/api/auth/exchange", { body: { code, cookie: !desktop } })));
      },
      signOut: async () => {
        try {
          await unwrap(client().POST("/api/auth/logout"));
        } catch {
          // Signing out here is what matters; the session expires anyway.
        }
        leave(null);
      },
    };
  }, [epoch, signedOut, notice, meQuery.data, meQuery.isPending, desktop, enter, leave]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The session, or null where there is none (the kiosk wallboard). */
export function useOptionalSession(): Session | null {
  return useContext(Ctx);
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
