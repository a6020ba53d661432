//! A Twilio queue with hold music: the caller waits in `<Enqueue>` (music
//! from the wait URL, `<Leave>` when the slice is up) while the receiver
//! rings every available agent through the department's Twilio dialer — a
//! fake Twilio REST API on loopback that records what it was asked — and
//! cancels the phones still ringing once an agent takes the caller, the
//! caller leaves the queue, or the next slice rings afresh.

use super::{flow, owned, publish_and_attach, setup, twilio_post, xml_attr, AGENT_PHONE};
use callboard_tests::fake_platform::{FakePlatform, Reply, Seen};
use callboard_tests::{until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

const PUBLIC: &str = "https://cb.example.test";
const TOKEN: &str = "twilio-auth-token-queue-0123456789";
const SECOND_AGENT: &str = "+919000000002";
const MUSIC: &str = "https://cdn.example.com/hold.mp3?x=1&y=2";

/// Agents' calls created (`POST …/Calls.json`).
fn created(fake: &FakePlatform) -> Vec<Seen> {
    fake.seen()
        .into_iter()
        .filter(|r| r.target.ends_with("/Calls.json"))
        .collect()
}

/// Legs cancelled (`POST …/Calls/{sid}.json`, `Status=canceled`), by sid.
fn cancelled(fake: &FakePlatform) -> Vec<String> {
    let mut v: Vec<String> = fake
        .seen()
        .into_iter()
        .filter(|r| r.form("Status").as_deref() == Some("canceled"))
        .map(|r| {
            let tail = r.target.rsplit('/').next().unwrap_or_default();
            tail.trim_end_matches(".json").to_string()
        })
        .collect();
    v.sort();
    v
}

/// A second available agent with a phone in `slug`.
async fn second_agent(srv: &TestServer, slug: &str) {
    let name = format!("agent2-{slug}");
    srv.user(&name, "agent", &[slug]).await.unwrap();
    let uid = srv.user_id(&name).await.unwrap();
    for (path, body) in [
        (
            format!("/api/users/{uid}/phone"),
            json!({"phone": SECOND_AGENT}),
        ),
        (
            format!("/api/agents/{uid}/state"),
            json!({"state": "available"}),
        ),
    ] {
        let (s, b) = srv.put_json(&path, ADMIN_TOKEN, &body).await.unwrap();
        assert_eq!(s, 200, "{b}");
    }
}

async fn twilio_dialer(srv: &TestServer, slug: &str, fake: &FakePlatform) {
    let (s, d) = srv
        .put_json(
            &format!("/api/providers/{slug}/dialer"),
            ADMIN_TOKEN,
            &json!({"kind": "twilio",
                "fields": {"account_sid": "AC77", "caller_id": "+15550100", "base_url": fake.base},
                "secrets": {"auth_token": "rest-token"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["ready"], true, "{d}");
}

/// A receiver, a Twilio department with an available agent, and the test
/// flow with hold music on its queue (rung in slices of `every` seconds)
/// published; the fake Twilio API a dialer will use. Returns the flow's id.
async fn music_line(every: Option<u32>) -> (FakePlatform, TestServer, String, i64) {
    let fake = FakePlatform::start().await;
    let srv = TestServer::start_with_env(&[("CALLBOARD_PUBLIC_URL", PUBLIC)])
        .await
        .unwrap();
    let (slug, _) = setup(&srv, "twilio", json!({"signing_secret": TOKEN})).await;
    let mut f = flow(&slug);
    f["nodes"][2]["hold_music_url"] = json!(MUSIC);
    if let Some(every) = every {
        f["nodes"][2]["announce_every_seconds"] = json!(every);
    }
    let flow_id = publish_and_attach(&srv, &slug, &f).await;
    (fake, srv, slug, flow_id)
}

/// The next agent call Twilio creates gets `sid`; cancels are answered.
fn one_leg(fake: &FakePlatform, sid: &str) {
    fake.script_path(
        "/Calls.json",
        &[Reply::json(201, json!({"sid": sid, "status": "queued"}))],
    );
    fake.answer(Reply::json(200, json!({"sid": sid, "status": "canceled"})));
}

/// What the simulator answers a Twilio call that presses 1 (the queue).
async fn simulated(srv: &TestServer, flow_id: i64) -> String {
    let (s, sim) = srv
        .post_json(
            &format!("/api/flows/{flow_id}/simulate"),
            ADMIN_TOKEN,
            &json!({"dialect": "twilio", "caller": "+15550001", "did": "+15550002", "inputs": ["1"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{sim}");
    sim["steps"][1]["rendered"]["body"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_queue_plays_music_rings_the_agents_and_stops_the_others() {
    let (fake, srv, slug, flow_id) = music_line(Some(15)).await;
    second_agent(&srv, &slug).await;
    // The simulator answers what the platform would get.
    let x = simulated(&srv, flow_id).await;
    assert!(x.contains("<Dial") && !x.contains("<Enqueue"), "{x}");
    let start = format!("{PUBLIC}/ivr/{slug}");
    let post = |url: String, form: Vec<(&str, &str)>| {
        twilio_post(&srv, PUBLIC, Some(TOKEN), url, owned(&form))
    };
    let call = |sid: &'static str| {
        vec![
            ("CallSid", sid),
            ("From", "+15550001"),
            ("To", "+15550002"),
            ("CallStatus", "in-progress"),
        ]
    };
    let press_1 = |sid: &'static str| {
        let mut f = call(sid);
        f.push(("Digits", "1"));
        f
    };

    // Without a Twilio dialer the agents ring in a `<Dial>` (ringback only).
    post(start.clone(), call("CAQ0")).await;
    let (_, x) = post(format!("{start}?s=1"), press_1("CAQ0")).await;
    assert!(x.contains("<Dial") && !x.contains("<Enqueue"), "{x}");

    // With one, the caller waits in a queue of their own, with music.
    twilio_dialer(&srv, &slug, &fake).await;
    let x = simulated(&srv, flow_id).await;
    assert!(x.contains(">cb-SIMULATED</Enqueue>"), "{x}");
    fake.script_path(
        "/Calls.json",
        &[
            Reply::json(201, json!({"sid": "CAleg1", "status": "queued"})),
            Reply::json(201, json!({"sid": "CAleg2", "status": "queued"})),
        ],
    );
    fake.answer(Reply::json(
        200,
        json!({"sid": "CAx", "status": "canceled"}),
    ));
    post(start.clone(), call("CAQ1")).await;
    let (s, x) = post(format!("{start}?s=1"), press_1("CAQ1")).await;
    assert_eq!(s, 200, "{x}");
    assert!(!x.contains("<Dial"), "{x}");
    assert!(x.contains(">cb-CAQ1</Enqueue>"), "{x}");
    assert_eq!(xml_attr(&x, "Enqueue", "action"), format!("{start}?s=2"));
    let wait = xml_attr(&x, "Enqueue", "waitUrl");
    assert!(wait.contains("cb_wait=15"), "{wait}");

    // Every available agent's phone rings, through Twilio's REST API, with
    // TwiML that dials the caller's queue.
    until(10, "both agents rung", || async {
        created(&fake).len() == 2
    })
    .await;
    let legs = created(&fake);
    let mut to: Vec<String> = legs.iter().filter_map(|r| r.form("To")).collect();
    to.sort();
    assert_eq!(to, vec![AGENT_PHONE.to_string(), SECOND_AGENT.to_string()]);
    for leg in &legs {
        assert_eq!(leg.target, "/2010-04-01/Accounts/AC77/Calls.json");
        assert_eq!(leg.form("From").as_deref(), Some("+15550100"));
        assert_eq!(leg.form("Timeout").as_deref(), Some("15"));
        assert!(leg.header("authorization").unwrap().starts_with("Basic "));
        let twiml = leg.form("Twiml").unwrap();
        assert!(
            twiml.contains(&format!(
                r#"<Queue url="{start}?cb_bridge=1" method="POST">cb-CAQ1</Queue>"#
            )),
            "{twiml}"
        );
    }

    // The wait URL: the music while the slice lasts, then `<Leave>`.
    let mut waiting = call("CAQ1");
    waiting.extend([
        ("QueueTime", "3"),
        ("QueuePosition", "1"),
        ("QueueSid", "QU1"),
    ]);
    let (s, m) = post(wait.clone(), waiting.clone()).await;
    assert_eq!(s, 200, "{m}");
    assert!(
        m.contains("<Play>https://cdn.example.com/hold.mp3?x=1&amp;y=2</Play>"),
        "{m}"
    );
    let mut up = call("CAQ1");
    up.extend([("QueueTime", "15"), ("QueueSid", "QU1")]);
    let (_, m) = post(wait.clone(), up).await;
    assert!(m.contains("<Leave/>") && !m.contains("<Play"), "{m}");
    assert_eq!(
        srv.call(&slug, "CAQ1").await.unwrap()["metadata"]["ivr_node"],
        "sales",
        "the wait URL leaves the call where it is"
    );

    // The slice is up: the caller hears their place again and waits on;
    // the first slice's phones stop, the next slice's ring.
    fake.script_path(
        "/Calls.json",
        &[
            Reply::json(201, json!({"sid": "CAleg3", "status": "queued"})),
            Reply::json(201, json!({"sid": "CAleg4", "status": "queued"})),
        ],
    );
    let mut left = call("CAQ1");
    left.extend([("QueueResult", "leave"), ("QueueTime", "15")]);
    let (_, x) = post(format!("{start}?s=2"), left).await;
    assert!(x.contains(">cb-CAQ1</Enqueue>"), "{x}");
    until(10, "the first slice cancelled, the second rung", || async {
        cancelled(&fake) == ["CAleg1", "CAleg2"] && created(&fake).len() == 4
    })
    .await;

    // An agent dequeues the caller: Twilio fetches the bridge URL on the
    // caller's side; the other phone stops ringing, the taker's does not.
    let (s, b) = post(
        format!("{start}?cb_bridge=1"),
        vec![
            ("CallSid", "CAQ1"),
            ("DequeingCallSid", "CAleg4"),
            ("QueueSid", "QU1"),
            ("QueueTime", "21"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("<Response>") && !b.contains("<Say"), "{b}");
    until(10, "the other agent's phone cancelled", || async {
        cancelled(&fake) == ["CAleg1", "CAleg2", "CAleg3"]
    })
    .await;
    // The board shows the call talking at once, with the agent who took it
    // (the phone the fourth agent call rang: replies go out in order).
    let taker = created(&fake)[3].form("To").unwrap();
    let c = srv.call(&slug, "CAQ1").await.unwrap();
    assert_eq!(c["status"], "active", "{c}");
    assert!(c["answered_at"].is_string(), "{c}");
    // (Known at once once Twilio's answer to the agent's call was read;
    // otherwise as soon as it is.)
    until(10, "the agent on the call", || async {
        srv.call(&slug, "CAQ1").await.unwrap()["agent_id"] == taker.as_str()
    })
    .await;
    let c = srv.call(&slug, "CAQ1").await.unwrap();
    let owner = if taker == AGENT_PHONE {
        format!("agent-{slug}")
    } else {
        format!("agent2-{slug}")
    };
    assert!(
        c["agent_name"]
            .as_str()
            .unwrap_or_default()
            .contains(&owner),
        "{c}"
    );
    // Asked again (Twilio retries), nothing changes.
    let (s, _) = post(
        format!("{start}?cb_bridge=1"),
        vec![("CallSid", "CAQ1"), ("DequeingCallSid", "CAleg4")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        srv.call(&slug, "CAQ1").await.unwrap()["answered_at"],
        c["answered_at"]
    );

    // When both hang up, Twilio reports the queue's result: answered.
    let mut bridged = call("CAQ1");
    bridged.extend([("QueueResult", "bridged"), ("QueueTime", "21")]);
    let (_, x) = post(format!("{start}?s=3"), bridged).await;
    assert!(x.contains("<Hangup/>"), "{x}");
    let c = srv.call(&slug, "CAQ1").await.unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["metadata"]["exit_reason"], "completed", "{c}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        cancelled(&fake),
        ["CAleg1", "CAleg2", "CAleg3"],
        "the taker's call is never cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_agent_call_or_a_caller_who_hangs_up_loses_nothing() {
    let (fake, srv, slug, _) = music_line(None).await;
    twilio_dialer(&srv, &slug, &fake).await;
    let start = format!("{PUBLIC}/ivr/{slug}");
    let post = |url: String, form: Vec<(&str, &str)>| {
        twilio_post(&srv, PUBLIC, Some(TOKEN), url, owned(&form))
    };
    let call =
        |sid: &'static str| vec![("CallSid", sid), ("From", "+15550001"), ("To", "+15550002")];
    let press_1 = |sid: &'static str| {
        let mut f = call(sid);
        f.push(("Digits", "1"));
        f
    };

    // Twilio refuses the agent's call: the caller still waits with music,
    // and when the wait is over the queue's timeout edge is taken.
    fake.script_path(
        "/Calls.json",
        &[Reply::json(
            401,
            json!({"code": 20003, "message": "Authenticate", "status": 401}),
        )],
    );
    post(start.clone(), call("CAR1")).await;
    let (_, x) = post(format!("{start}?s=1"), press_1("CAR1")).await;
    assert!(x.contains(">cb-CAR1</Enqueue>"), "{x}");
    until(10, "the refused leg", || async {
        created(&fake).len() == 1
    })
    .await;
    let mut left = call("CAR1");
    left.extend([("QueueResult", "leave"), ("QueueTime", "30")]);
    let (_, x) = post(format!("{start}?s=2"), left).await;
    assert!(x.contains("Leave a message"), "the timeout edge: {x}");
    assert!(cancelled(&fake).is_empty(), "nothing was placed to cancel");

    // A caller who hangs up while the agent's phone rings: a queue abandon,
    // and the phone stops.
    one_leg(&fake, "CAlegH");
    post(start.clone(), call("CAH1")).await;
    post(format!("{start}?s=1"), press_1("CAH1")).await;
    until(10, "the agent rung", || async { created(&fake).len() == 2 }).await;
    // Whether its id is on record yet or not, the hang-up stops it.
    let mut gone = call("CAH1");
    gone.extend([("QueueResult", "hangup"), ("QueueTime", "7")]);
    let (s, _) = post(format!("{start}?s=2"), gone).await;
    assert_eq!(s, 200);
    let c: Value = srv.call(&slug, "CAH1").await.unwrap();
    assert_eq!(c["metadata"]["exit_reason"], "queue_abandon", "{c}");
    assert_eq!(c["status"], "hangup", "{c}");
    until(10, "the ringing phone cancelled", || async {
        cancelled(&fake) == ["CAlegH"]
    })
    .await;

    // The wait and bridge URLs are signed like every IVR request, and read
    // strictly.
    let wait = format!("{start}?s=2&cb_wait=15&music={}", urlencode(MUSIC));
    let (s, _) = twilio_post(&srv, PUBLIC, None, wait.clone(), owned(&call("CAH1"))).await;
    assert_eq!(s, 401);
    let (s, b) = post(
        format!("{start}?cb_wait=soon&music={}", urlencode(MUSIC)),
        call("CAH1"),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("cb_wait"), "{b}");
    let (s, b) = post(
        format!("{start}?cb_wait=15&music=javascript%3Aalert(1)"),
        call("CAH1"),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = post(format!("{start}?cb_bridge=1"), vec![("QueueSid", "QU1")]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("CallSid"), "{b}");
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialer_that_can_no_longer_ring_still_stops_the_last_slices_phones() {
    let (fake, srv, slug, _) = music_line(Some(15)).await;
    twilio_dialer(&srv, &slug, &fake).await;
    one_leg(&fake, "CAlegI");
    let start = format!("{PUBLIC}/ivr/{slug}");
    let post = |url: String, form: Vec<(&str, &str)>| {
        twilio_post(&srv, PUBLIC, Some(TOKEN), url, owned(&form))
    };
    let call = || {
        vec![
            ("CallSid", "CAI1"),
            ("From", "+15550001"),
            ("To", "+15550002"),
        ]
    };
    post(start.clone(), call()).await;
    let mut pressed = call();
    pressed.push(("Digits", "1"));
    post(format!("{start}?s=1"), pressed).await;
    until(10, "the first slice rung", || async {
        created(&fake).len() == 1
    })
    .await;

    // The dialer loses its token (another platform, then Twilio again
    // without one): the next slice rings nobody, and the first slice's
    // phone stops instead of ringing on.
    for body in [
        json!({"kind": "exotel", "fields": {"account_sid": "a", "api_key": "k", "caller_id": "080"},
               "secrets": {"api_token": "t"}}),
        json!({"kind": "twilio", "fields": {"account_sid": "AC77", "caller_id": "+15550100", "base_url": fake.base}}),
    ] {
        let (s, d) = srv
            .put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, &body)
            .await
            .unwrap();
        assert_eq!(s, 200, "{d}");
    }
    let mut left = call();
    left.extend([("QueueResult", "leave"), ("QueueTime", "15")]);
    let (s, x) = post(format!("{start}?s=2"), left).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains(">cb-CAI1</Enqueue>"),
        "the caller still waits with music: {x}"
    );
    until(10, "the first slice's phone cancelled", || async {
        cancelled(&fake) == ["CAlegI"]
    })
    .await;
    assert_eq!(created(&fake).len(), 1, "nobody rung without a token");
}

/// The agents' calls `srv` has on record as ringing (read from its
/// database file, beside the running receiver).
fn legs_on_record(srv: &TestServer) -> i64 {
    let db = srv.dir.path().join("callboard.db");
    rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM ivr_queue_legs", [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// Where Twilio's next request lands: on PostgreSQL, another instance of
/// the cluster (with a copy of `secrets.json`, as docs/OPERATIONS.md says;
/// the earlier ones keep running, in `kept`); on SQLite, the same receiver
/// restarted.
async fn elsewhere(here: TestServer, kept: &mut Vec<TestServer>, slug: &str) -> TestServer {
    let Some(url) = here.database_url() else {
        return here.restart().await.unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        here.dir.path().join("secrets.json"),
        dir.path().join("secrets.json"),
    )
    .unwrap();
    let next = TestServer::start_in(
        dir,
        &[
            ("CALLBOARD_PUBLIC_URL", PUBLIC),
            ("CALLBOARD_DATABASE_URL", &url),
        ],
    )
    .await
    .unwrap();
    until(10, "the new instance knows the department", || async {
        next.get_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
            .await
            .is_ok_and(|(s, _)| s == 200)
    })
    .await;
    kept.push(here);
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phones_rung_by_one_receiver_stop_on_another_or_after_a_restart() {
    let (fake, srv, slug, _) = music_line(Some(15)).await;
    second_agent(&srv, &slug).await;
    twilio_dialer(&srv, &slug, &fake).await;
    let start = format!("{PUBLIC}/ivr/{slug}");
    let call = |more: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("CallSid", "CAS1"),
            ("From", "+15550001"),
            ("To", "+15550002"),
        ];
        f.extend_from_slice(more);
        owned(&f)
    };
    let legs = |a: &str, b: &str| {
        fake.script_path(
            "/Calls.json",
            &[
                Reply::json(201, json!({"sid": a, "status": "queued"})),
                Reply::json(201, json!({"sid": b, "status": "queued"})),
            ],
        );
    };
    fake.answer(Reply::json(
        200,
        json!({"sid": "CAx", "status": "canceled"}),
    ));
    legs("CAlegS1", "CAlegS2");
    twilio_post(&srv, PUBLIC, Some(TOKEN), start.clone(), call(&[])).await;
    twilio_post(
        &srv,
        PUBLIC,
        Some(TOKEN),
        format!("{start}?s=1"),
        call(&[("Digits", "1")]),
    )
    .await;
    until(10, "the first slice rung", || async {
        created(&fake).len() == 2
    })
    .await;
    // Twilio's answers (the legs' ids) are recorded a moment after it
    // received the requests.
    until(10, "the first slice's legs on record", || async {
        legs_on_record(&srv) == 2
    })
    .await;

    // Twilio's next request reaches another receiver (or this one,
    // restarted) while both phones ring: the slice ends there, the phones
    // rung before stop, the next slice's ring.
    let mut kept = Vec::new();
    let srv = elsewhere(srv, &mut kept, &slug).await;
    legs("CAlegS3", "CAlegS4");
    let (s, x) = twilio_post(
        &srv,
        PUBLIC,
        Some(TOKEN),
        format!("{start}?s=2"),
        call(&[("QueueResult", "leave"), ("QueueTime", "15")]),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert!(x.contains(">cb-CAS1</Enqueue>"), "{x}");
    until(10, "the first slice cancelled", || async {
        cancelled(&fake) == ["CAlegS1", "CAlegS2"] && created(&fake).len() == 4
    })
    .await;
    until(10, "the second slice's legs on record", || async {
        legs_on_record(&srv) == 2
    })
    .await;

    // Again elsewhere, an agent takes the caller: the other phone stops,
    // and the call shows the agent who took it.
    let srv = elsewhere(srv, &mut kept, &slug).await;
    let (s, b) = twilio_post(
        &srv,
        PUBLIC,
        Some(TOKEN),
        format!("{start}?cb_bridge=1"),
        owned(&[("CallSid", "CAS1"), ("DequeingCallSid", "CAlegS4")]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    until(10, "the other phone cancelled", || async {
        cancelled(&fake) == ["CAlegS1", "CAlegS2", "CAlegS3"]
    })
    .await;
    let taker = created(&fake)[3].form("To").unwrap();
    let c = srv.call(&slug, "CAS1").await.unwrap();
    assert_eq!(c["status"], "active", "{c}");
    assert_eq!(c["agent_id"], taker.as_str(), "{c}");
}
