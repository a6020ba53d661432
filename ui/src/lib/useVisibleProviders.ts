import { useMemo } from "react";
import { useProviders } from "../features/providers/queries";
import type { Provider } from "../api/types";
import { useOptionalSession } from "../session";

/** Active providers this person may see, in display order. The same array
 * until the providers or the person change: screens build their columns and
 * tabs from it. */
export function useVisibleProviders(): Provider[] {
  // A kiosk wallboard has no session: its token's own scope limits the list.
  const me = useOptionalSession()?.me;
  const data = useProviders().data?.data;
  const role = me?.role;
  const departments = me?.departments;
  return useMemo(
    () =>
      (data ?? [])
        .filter((p) => p.active)
        .filter((p) => role !== "agent" || departments == null || departments.includes(p.slug))
        .sort((a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name)),
    [data, role, departments],
  );
}

export function providerName(providers: Provider[], slug: string): string {
  return providers.find((p) => p.slug === slug)?.name ?? slug;
}
