// Disposition categories: a department's (with the global ones) for the
// disposition form, and every one, retired too, for Masters › Categories.
// `category.changed` refreshes every key under ["categories"].
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { CategoryPatch, NewCategory } from "../../api/types";

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

export function createCategory(body: NewCategory) {
  return unwrap(client().POST("/api/categories", { body }));
}

export function updateCategory(id: number, patch: CategoryPatch) {
  return unwrap(client().PATCH("/api/categories/{id}", { params: { path: { id } }, body: patch }));
}

/** Retires a category (kept on past dispositions) or restores it. */
export function setCategoryActive(id: number, active: boolean) {
  return active
    ? updateCategory(id, { active: true })
    : unwrap(client().DELETE("/api/categories/{id}", { params: { path: { id } } }));
}
