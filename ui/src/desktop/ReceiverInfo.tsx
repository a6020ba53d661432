import { CopyButton } from "../components/Dialog";
import type { DesktopConnection } from "./bridge";

/** Where IVR platforms send webhooks, and what may stop them getting there. */
export function ReceiverInfo({ connection }: { connection: DesktopConnection }) {
  return (
    <div className="stack" data-testid="receiver-info">
      <p>Give the IVR platform this address, followed by the provider&apos;s slug:</p>
      <ul className="plain">
        {connection.webhookBases.map((b) => {
          const url = `${b}/webhooks/ivr/`;
          return (
            <li key={b} className="row">
              <code className="grow" data-testid="webhook-base">
                {url}&lt;slug&gt;
              </code>
              <CopyButton text={url} />
            </li>
          );
        })}
      </ul>
      {connection.hints.map((h) => (
        <div key={h} className="banner warn" role="note">
          {h}
        </div>
      ))}
      {connection.secrets === "file" && (
        <div className="banner warn" role="note">
          This computer has no keyring: Callboard keeps its secrets in a file only your user can read.
        </div>
      )}
    </div>
  );
}
