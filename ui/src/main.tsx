import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App";
import { ApiError } from "./api/client";
import { SessionProvider } from "./session";
import { applyTheme, storedTheme, watchSystemTheme } from "./lib/theme";
import { followNotificationClicks, inDesktop, startDesktop, commandMessage } from "./desktop/bridge";
import { FirstRun } from "./desktop/FirstRun";
import { KioskWallboard, kioskToken } from "./features/dashboard/Kiosk";
import "./styles.css";

applyTheme(storedTheme());
watchSystemTheme(storedTheme);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // The stream keeps data fresh; refetching on focus would only add load.
      refetchOnWindowFocus: false,
      staleTime: 30_000,
      retry: (n, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && n < 3,
    },
  },
});

function renderApp(el: HTMLElement) {
  createRoot(el).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}

// In the desktop window the shell hands over the backend first (or asks the
// first-run question); in a browser the page talks to its own origin.
async function boot(el: HTMLElement) {
  // A TV's wallboard link: no sign-in, its token reads the figures only.
  const kiosk = inDesktop() ? null : kioskToken(window.location.search);
  if (kiosk) {
    document.title = "Callboard wallboard";
    createRoot(el).render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <KioskWallboard token={kiosk} />
        </QueryClientProvider>
      </StrictMode>,
    );
    return;
  }
  if (!inDesktop()) {
    renderApp(el);
    return;
  }
  try {
    const connection = await startDesktop();
    if (!connection) {
      createRoot(el).render(
        <StrictMode>
          <FirstRun onDone={() => window.location.assign("/")} />
        </StrictMode>,
      );
      return;
    }
    void followNotificationClicks();
    renderApp(el);
  } catch (e) {
    el.textContent = `Callboard could not start its backend: ${commandMessage(e)}`;
    el.className = "login banner error";
  }
}

const root = document.getElementById("root");
if (root) void boot(root);
