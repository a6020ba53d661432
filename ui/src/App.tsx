import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation, useSearchParams } from "react-router";
import { ScreenBoundary } from "./components/ScreenBoundary";
import { Sidebar } from "./components/Sidebar";
import { LoginPage } from "./features/login/Login";
import { FirstPasswordPage } from "./features/account/FirstPassword";
import { LivePage } from "./features/live/LivePage";
import { HangupPage } from "./features/worklist/HangupPage";
import { DashboardPage, Wallboard } from "./features/dashboard/Dashboard";
import { useSession } from "./session";
import { StreamProvider } from "./stream/StreamProvider";
import { inDesktop } from "./desktop/bridge";
import { CrossingWatcher } from "./features/thresholds/CrossingBanner";
import { VoicemailWatcher } from "./features/voicemails/VoicemailNotice";

const ProvidersPage = lazy(() => import("./features/providers/Providers"));
const CategoriesPage = lazy(() => import("./features/categories/Categories"));
const UsersPage = lazy(() => import("./features/users/Users"));
const DialpadUsersPage = lazy(() => import("./features/dialpad/DialpadUsers"));
const DesktopSettingsPage = lazy(() => import("./desktop/DesktopSettings"));
// Charts weigh: the analytics screen and its charting library load on first visit.
const AnalyticsPage = lazy(() => import("./features/analytics/Analytics"));
const AuditPage = lazy(() => import("./features/audit/Audit"));
const AccessPage = lazy(() => import("./features/access/Access"));
const AgentsPage = lazy(() => import("./features/agents/AgentBoard"));
const FlowsRoute = lazy(() => import("./features/flows/FlowsPage"));
const ThresholdsPage = lazy(() => import("./features/thresholds/ThresholdsPage"));
const HistoryPage = lazy(() => import("./features/history/HistoryPage"));
const VoicemailPage = lazy(() => import("./features/voicemails/VoicemailPage"));
const RetentionPage = lazy(() => import("./features/retention/RetentionPage"));

function Shell() {
  const { isAdmin, me } = useSession();
  const isSupervisor = me?.role === "admin" || me?.role === "supervisor";
  const [params] = useSearchParams();
  const { pathname } = useLocation();
  if (params.get("wallboard") === "1")
    return (
      <ScreenBoundary name="wallboard">
        <Wallboard />
      </ScreenBoundary>
    );
  const home = me?.role === "agent" ? "/hangup/all" : "/live/all";
  return (
    <div className="shell">
      <Sidebar />
      <CrossingWatcher />
      <VoicemailWatcher />
      {/* One boundary per screen: a new address starts with a clean slate. */}
      <ScreenBoundary key={pathname}>
        <Suspense fallback={<div className="content muted">Loading…</div>}>
          <Routes>
            <Route path="/" element={<Navigate to={home} replace />} />
            <Route path="/login" element={<Navigate to={home} replace />} />
            <Route path="/live/:department" element={<LivePage />} />
            <Route path="/hangup/:department" element={<HangupPage />} />
            <Route path="/dashboard" element={<DashboardPage />} />
            <Route path="/history" element={<HistoryPage />} />
            <Route path="/voicemail" element={<VoicemailPage />} />
            {me?.role !== "agent" && <Route path="/analytics" element={<AnalyticsPage />} />}
            {isAdmin && <Route path="/masters/providers" element={<ProvidersPage />} />}
            {isAdmin && <Route path="/masters/providers/:slug" element={<ProvidersPage />} />}
            {isAdmin && <Route path="/masters/categories" element={<CategoriesPage />} />}
            {isAdmin && <Route path="/masters/users" element={<UsersPage />} />}
            {isAdmin && <Route path="/masters/dialpad-users" element={<DialpadUsersPage />} />}
            {inDesktop() && <Route path="/desktop/settings" element={<DesktopSettingsPage />} />}
            {isAdmin && <Route path="/masters/audit" element={<AuditPage />} />}
            {isAdmin && <Route path="/masters/access" element={<AccessPage />} />}
            {isAdmin && <Route path="/masters/retention" element={<RetentionPage />} />}
            {isSupervisor && <Route path="/agents" element={<AgentsPage />} />}
            {isSupervisor && <Route path="/thresholds" element={<ThresholdsPage />} />}
            {isSupervisor && <Route path="/flows" element={<FlowsRoute />} />}
            {isSupervisor && <Route path="/flows/:id" element={<FlowsRoute />} />}
            {isSupervisor && <Route path="/flows/:id/:view" element={<FlowsRoute />} />}
            <Route path="*" element={<Navigate to={home} replace />} />
          </Routes>
        </Suspense>
      </ScreenBoundary>
    </div>
  );
}

function Gate() {
  const { epoch, loading, me } = useSession();
  if (loading) return <div className="login muted">Signing in…</div>;
  if (!me) return <LoginPage />;
  if (me.must_change_password) return <FirstPasswordPage />;
  return (
    <StreamProvider session={epoch}>
      <Shell />
    </StreamProvider>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <Gate />
    </BrowserRouter>
  );
}
