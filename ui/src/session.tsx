// Who is signed in. The token is remembered in localStorage (or handed over
// by the desktop shell); `me` says the role and departments the UI obeys.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { client, configure, setUnauthorizedHandler, unwrap } from "./api/client";
import { keys } from "./api/keys";
import type { Me } from "./api/types";
import { desktopConfig } from "./desktop/bridge";

const TOKEN_KEY = "callboard.token";

interface Session {
  token: string | null;
  me: Me | undefined;
  loading: boolean;
  isAdmin: boolean;
  /** `totp`: the authenticator code, for a user with two-step sign-in on. */
  signIn: (username: string, password: string, totp?: string) => Promise<void>;
  exchange: (code: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<Session | null>(null);

function initialToken(): string | null {
  const d = desktopConfig();
  if (d) {
    configure({ base: d.apiBase, token: d.token });
    return d.token;
  }
  try {
    const t = localStorage.getItem(TOKEN_KEY);
    configure({ token: t });
    return t;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(initialToken);
  const qc = useQueryClient();

  const adopt = useCallback(
    (t: string | null) => {
      configure({ token: t });
      try {
        if (t) localStorage.setItem(TOKEN_KEY, t);
        else localStorage.removeItem(TOKEN_KEY);
      } catch {
        // Private windows may refuse storage: the session lasts the tab.
      }
      qc.clear();
      setToken(t);
    },
    [qc],
  );

  useEffect(() => {
    setUnauthorizedHandler(() => adopt(null));
    return () => setUnauthorizedHandler(null);
  }, [adopt]);

  const meQuery = useQuery({
    queryKey: [...keys.me, token],
    queryFn: () => unwrap(client().GET("/api/auth/me")),
    enabled: token !== null,
    staleTime: 60_000,
  });

  const value = useMemo<Session>(() => {
    const me = meQuery.data;
    return {
      token,
      me,
      loading: token !== null && meQuery.isPending,
      isAdmin: me?.role === "admin",
      signIn: async (username, password, totp) => {
        const r = await unwrap(client().POST("/api/auth/login", { body: { username, password, totp } }));
        adopt(r.token);
      },
      exchange: async (code) => {
        const r = await unwrap(client().POST("/api/auth/exchange", { body: { code } }));
        adopt(r.token);
      },
      signOut: async () => {
        try {
          await unwrap(client().POST("/api/auth/logout"));
        } catch {
          // Signing out locally is what matters; the token expires anyway.
        }
        adopt(null);
      },
    };
  }, [token, meQuery.data, meQuery.isPending, adopt]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
