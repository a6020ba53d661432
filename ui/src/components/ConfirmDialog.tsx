// Confirmation dialogs shared by the admin screens (providers, users,
// categories, flows).
import { type ReactNode } from "react";
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { Dialog } from "./Dialog";
import { ErrorBanner } from "./ErrorBanner";

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      footer={
        <>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? "danger" : "primary"}
            aria-disabled={busy || undefined}
            onClick={() => !busy && onConfirm()}
          >
            {busy ? "Working…" : confirmLabel}
          </button>
        </>
      }
    >
      {children}
      <ErrorBanner error={error} />
    </Dialog>
  );
}

/**
 * Confirms deactivating or reactivating a record (provider, user, category),
 * runs it, refreshes the lists under `invalidate`, and closes.
 */
export function ToggleActiveDialog({
  title,
  confirmLabel,
  danger,
  run,
  invalidate,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  danger: boolean;
  run: () => Promise<unknown>;
  invalidate: QueryKey;
  onClose: () => void;
  children: ReactNode;
}) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: run,
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: invalidate });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={title}
      confirmLabel={confirmLabel}
      danger={danger}
      busy={m.isPending}
      error={m.error}
      onCancel={onClose}
      onConfirm={() => m.mutate()}
    >
      {children}
    </ConfirmDialog>
  );
}
