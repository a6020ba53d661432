// Disposition categories: a department's (with the global ones) for the
// disposition form, and every one, retired too, for Masters › Categories.
// `category.changed` refreshes every key under ["categories"].
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";

export function useCategories(department?: string) {
  return useQuery({
    queryKey: [...keys.categories, department ?? "all"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/categories", { params: { query: { department } }, signal })),
  });
}

/** Every category, retired ones too. */
export function useAllCategories() {
  return useQuery({
    queryKey: [...keys.categories, "masters", { includeInactive: true }],
    queryFn: ({ signal }) =>
      unwrap(client().GET("/api/categories", { params: { query: { include_inactive: true } }, signal })),
  });
}
