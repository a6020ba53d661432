import { Dialog } from "./Dialog";

export const WORKLIST_SHORTCUTS: [string, string][] = [
  ["↓ / j", "Next call"],
  ["↑ / k", "Previous call"],
  ["Enter / o", "Open call details"],
  ["a", "Assign the call to me"],
  ["u", "Unassign the call"],
  ["d", "Disposition the call"],
  ["1 – 4", "Pending, Assigned, Attempted, Resolved"],
  ["/", "Search"],
  ["?", "This help"],
  ["Esc", "Close the drawer or dialog"],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="plain" aria-label="Keyboard shortcuts">
        <tbody>
          {WORKLIST_SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <span className="kbd">{k}</span>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
