import { describe, expect, it } from "vitest";
import { VoicemailNotices, type VoicemailReceived } from "./notices";

function vm(id: number, forUser: number | null): VoicemailReceived {
  return {
    id,
    call_id: `V-${id}`,
    department: "sales",
    mobile_number: "+919811100001",
    link: `https://rec.example/${id}.mp3`,
    transcript: null,
    duration_seconds: 9,
    created_at: "2026-12-04T10:00:00.000Z",
    updated_at: "2026-12-04T10:00:00.000Z",
    listened_at: null,
    listened_by: null,
    handled_at: null,
    handled_by: null,
    assignee_id: null,
    assignee_name: null,
    agent: null,
    caller_name: null,
    for_user_id: forUser,
  } as VoicemailReceived;
}

describe("voicemail notices", () => {
  it("keep and announce each voicemail meant for someone once, newest first", () => {
    const store = new VoicemailNotices();
    const announced: number[] = [];
    store.onNew((v) => announced.push(v.id));
    store.receive(vm(1, 7));
    store.receive(vm(2, null));
    store.receive(vm(1, 7));
    store.receive(vm(3, 8));
    expect(store.snapshot().map((v) => v.id)).toEqual([3, 1]);
    expect(announced).toEqual([1, 3]);
    store.dismiss(1);
    expect(store.snapshot().map((v) => v.id)).toEqual([3]);
    store.receive(vm(1, 7));
    expect(store.snapshot().map((v) => v.id)).toEqual([3]);
  });

  it("start over with a new session", () => {
    const store = new VoicemailNotices();
    store.receive(vm(1, 7));
    store.clear();
    expect(store.snapshot()).toEqual([]);
    store.receive(vm(1, 7));
    expect(store.snapshot().map((v) => v.id)).toEqual([1]);
  });
});
