import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App";
import { ApiError } from "./api/client";
import { SessionProvider } from "./session";
import { applyTheme, storedTheme, watchSystemTheme } from "./lib/theme";
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

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
