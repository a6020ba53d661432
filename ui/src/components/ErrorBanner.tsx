import { errorText } from "../api/errors";

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner error row" role="alert">
      <span className="grow">{errorText(error)}</span>
      {onRetry && <button onClick={onRetry}>Try again</button>}
    </div>
  );
}
