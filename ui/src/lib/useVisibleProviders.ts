import { useProviders } from "../features/providers/queries";
import type { Provider } from "../api/types";
import { useOptionalSession } from "../session";

/** Active providers this person may see, in display order. */
export function useVisibleProviders(): Provider[] {
  // A kiosk wallboard has no session: its token's own scope limits the list.
  const me = useOptionalSession()?.me;
  const providers = useProviders();
  return (providers.data?.data ?? [])
    .filter((p) => p.active)
    .filter((p) => me?.role !== "agent" || me.departments == null || me.departments.includes(p.slug))
    .sort((a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name));
}

export function providerName(providers: Provider[], slug: string): string {
  return providers.find((p) => p.slug === slug)?.name ?? slug;
}
