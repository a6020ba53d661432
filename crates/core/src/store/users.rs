//! Users, their roles and departments, and the bearer tokens they sign in with.

use super::audit::Actor;
use super::decode::At;
use super::{audit, Writer};
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::keys;
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// Departments (provider slugs) an agent works in; admins and supervisors see all.
    pub departments: Vec<String>,
    /// Skills for skills-based callback routing (lower-case words).
    #[serde(default)]
    pub skills: Vec<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    pub fn can_see(&self, department: &str) -> bool {
        self.role != Role::Agent || self.departments.iter().any(|d| d == department)
    }
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.id),
            name: self.username.clone(),
        }
    }
}

const SESSION_DAYS: i64 = 30;
const LOGIN_LINK_HOURS: i64 = 24;

/// Qualified with `u` so the same list serves the join with `tokens`.
const COLS: &str =
    "u.id, u.username, u.display_name, u.role, u.departments, u.active, u.created_at, u.updated_at, u.skills";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let id: i64 = r.get(0)?;
    let at = At::new("users", id);
    Ok(User {
        id,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: at.wire(r, 3, "role")?,
        departments: at.json(r, 4, "departments")?,
        active: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        skills: at.json(r, 8, "skills")?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<User> {
    conn.query_row(
        &format!("SELECT {COLS} FROM users u WHERE u.id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no user {id}")))
}

pub fn by_username(conn: &Connection, username: &str) -> Result<User> {
    conn.query_row(
        &format!("SELECT {COLS} FROM users u WHERE u.username = ?1"),
        [username],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no user `{username}`")))
}

pub fn list(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLS} FROM users u ORDER BY u.username"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub departments: Vec<String>,
    pub display_name: Option<String>,
    /// Skills for skills-based routing.
    #[serde(default)]
    pub skills: Vec<String>,
    /// The password is temporary: a sign-in with it may only change it.
    #[serde(default)]
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub password: Option<String>,
    pub role: Option<Role>,
    pub departments: Option<Vec<String>>,
    pub display_name: Option<String>,
    pub active: Option<bool>,
    pub skills: Option<Vec<String>>,
    /// With a new `password`: a temporary one, to be changed at the next sign-in.
    pub must_change_password: Option<bool>,
}

fn check_username(u: &str) -> Result<String> {
    let u = u.trim();
    let ok = (2..=64).contains(&u.chars().count())
        && u.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok {
        return Err(Error::invalid(
            "username must be 2-64 letters, digits, dots, underscores, hyphens or @",
        ));
    }
    Ok(u.to_string())
}

pub fn validate_password(p: &str) -> Result<()> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err(Error::invalid("password must be at least 8 characters"));
    }
    Ok(())
}

fn check_departments(conn: &Connection, deps: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for d in deps {
        super::providers::get(conn, d)
            .map_err(|_| Error::invalid(format!("department `{d}` does not exist")))?;
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    Ok(out)
}

fn announce(w: &mut Writer<'_>, u: &User) -> Result<()> {
    let data = serde_json::to_string(u)?;
    w.emit(
        crate::hub::EventKind::UserChanged,
        None,
        Audience::Admin,
        data,
    )?;
    Ok(())
}

/// `password_hash` is computed by the caller, off the writer thread: argon2 is
/// deliberately slow and must not hold up ingestion.
pub fn create(
    w: &mut Writer<'_>,
    input: NewUser,
    password_hash: String,
    actor: &Actor,
) -> Result<User> {
    let username = check_username(&input.username)?;
    validate_password(&input.password)?;
    let deps = check_departments(w.conn, &input.departments)?;
    let skills = crate::routing::normalise_skills(&input.skills, "skills")?;
    if by_username(w.conn, &username).is_ok() {
        return Err(Error::Conflict(format!("user `{username}` already exists")));
    }
    let at = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, departments, created_at, updated_at, skills, must_change_password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
        params![username, input.display_name, password_hash, input.role.as_str(), serde_json::to_string(&deps)?, at, serde_json::to_string(&skills)?, input.must_change_password],
    )?;
    let u = get(w.conn, w.conn.last_insert_rowid())?;
    announce(w, &u)?;
    audit::record(
        w,
        actor,
        "user.create",
        Some(&u.username),
        serde_json::json!({ "role": u.role, "departments": u.departments, "skills": u.skills,
            "must_change_password": input.must_change_password }),
    )?;
    Ok(u)
}

pub fn validate_new(input: &NewUser) -> Result<()> {
    check_username(&input.username)?;
    validate_password(&input.password)
}

pub fn validate_patch(patch: &UserPatch) -> Result<()> {
    if patch.must_change_password == Some(true) && patch.password.is_none() {
        return Err(Error::invalid(
            "must_change_password goes with a new (temporary) password",
        ));
    }
    match &patch.password {
        Some(p) => validate_password(p),
        None => Ok(()),
    }
}

fn active_admins(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1",
        [],
        |r| r.get(0),
    )?)
}

pub fn update(
    w: &mut Writer<'_>,
    id: i64,
    patch: UserPatch,
    password_hash: Option<String>,
    actor: &Actor,
) -> Result<User> {
    let cur = get(w.conn, id)?;
    let deps = match &patch.departments {
        Some(d) => check_departments(w.conn, d)?,
        None => cur.departments.clone(),
    };
    let skills = match &patch.skills {
        Some(s) => crate::routing::normalise_skills(s, "skills")?,
        None => cur.skills.clone(),
    };
    let role = patch.role.unwrap_or(cur.role);
    let active = patch.active.unwrap_or(cur.active);
    if cur.role == Role::Admin
        && cur.active
        && (role != Role::Admin || !active)
        && active_admins(w.conn)? <= 1
    {
        return Err(Error::Conflict(
            "cannot demote or deactivate the last admin".into(),
        ));
    }
    w.conn.execute(
        "UPDATE users SET display_name = ?2, role = ?3, departments = ?4, active = ?5,
             password_hash = COALESCE(?6, password_hash), updated_at = ?7, skills = ?8 WHERE id = ?1",
        params![
            id,
            patch.display_name.clone().or(cur.display_name.clone()),
            role.as_str(),
            serde_json::to_string(&deps)?,
            active,
            password_hash,
            time::fmt(w.now),
            serde_json::to_string(&skills)?
        ],
    )?;
    if patch.password.is_some() {
        // A password an admin sets is temporary only when they say so.
        w.conn.execute(
            "UPDATE users SET must_change_password = ?2 WHERE id = ?1",
            params![id, patch.must_change_password.unwrap_or(false)],
        )?;
    }
    if !active || patch.password.is_some() {
        // A deactivated user or a changed password ends every session.
        w.conn.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
            params![id, time::fmt(w.now)],
        )?;
    }
    let u = get(w.conn, id)?;
    announce(w, &u)?;
    audit::record(
        w,
        actor,
        "user.update",
        Some(&u.username),
        serde_json::json!({
            "role": patch.role, "departments": patch.departments, "active": patch.active, "skills": patch.skills,
            "password_changed": patch.password.is_some(),
            "must_change_password": patch.must_change_password
        }),
    )?;
    Ok(u)
}

/// A person's own new password (they proved the current one): every other
/// session of theirs ends, the one they changed it from stays. Audited.
pub fn change_own_password(
    w: &mut Writer<'_>,
    user_id: i64,
    password_hash: String,
    keep_token: &str,
    actor: &Actor,
) -> Result<usize> {
    let now = time::fmt(w.now);
    let n = w.conn.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3, must_change_password = 0
          WHERE id = ?1 AND active = 1",
        params![user_id, password_hash, now],
    )?;
    if n == 0 {
        return Err(Error::not_found("no such active user"));
    }
    // The session it was changed from is a full one from now on.
    w.conn.execute(
        "UPDATE tokens SET password_change = 0 WHERE user_id = ?1 AND password_change = 1",
        params![user_id],
    )?;
    let ended = end_other_sessions(w, user_id, keep_token)?;
    let u = get(w.conn, user_id)?;
    audit::record(
        w,
        actor,
        "user.password",
        Some(&u.username),
        serde_json::json!({ "other_sessions_ended": ended }),
    )?;
    Ok(ended)
}

/// Ends every session of `user_id` but the one of `keep_token` (a password
/// changed from it); returns how many ended. A replica calls it on its own
/// cache's sessions when a password change made through it succeeded.
pub fn end_other_sessions(w: &mut Writer<'_>, user_id: i64, keep_token: &str) -> Result<usize> {
    Ok(w.conn.execute(
        "UPDATE tokens SET revoked_at = ?2
          WHERE user_id = ?1 AND revoked_at IS NULL AND kind = 'session' AND token_hash <> ?3",
        params![user_id, time::fmt(w.now), keys::hash_secret(keep_token)],
    )?)
}

/// The stored password hash of an active user, for a login attempt.
pub fn credentials(conn: &Connection, username: &str) -> Result<Option<(User, String)>> {
    let row = conn
        .query_row(
            &format!("SELECT {COLS}, u.password_hash FROM users u WHERE u.username = ?1 AND u.active = 1"),
            [username.trim()],
            |r| Ok((from_row(r)?, r.get::<_, String>(9)?)),
        )
        .optional()?;
    Ok(row)
}

/// How long a browser (cookie) session lasts: it ends after `idle` without
/// a request, and after `max` whatever happens.
#[derive(Debug, Clone, Copy)]
pub struct BrowserPolicy {
    pub idle: chrono::Duration,
    pub max: chrono::Duration,
}

/// Issues a session token for a user; returns it (the only time it is
/// visible) and its expiry. A bearer session lasts 30 days; a browser
/// session (`browser`: the console's cookie) ends after the policy's idle
/// time without use, or at its maximum.
pub fn issue_token(
    w: &mut Writer<'_>,
    user_id: i64,
    browser: Option<BrowserPolicy>,
) -> Result<(String, String)> {
    let token = keys::new_token();
    let now = time::fmt(w.now);
    let lasts = browser.map_or(chrono::Duration::days(SESSION_DAYS), |p| p.max);
    let expires = time::fmt(w.now + lasts);
    w.conn.execute(
        "INSERT INTO tokens (token_hash, user_id, kind, created_at, expires_at, idle_seconds, last_used_at)
         VALUES (?1, ?2, 'session', ?3, ?4, ?5, ?6)",
        params![
            keys::hash_secret(&token),
            user_id,
            now,
            expires,
            browser.map(|p| p.idle.num_seconds().max(1)),
            browser.map(|_| now.as_str())
        ],
    )?;
    Ok((token, expires))
}

/// A session signed in by password. When the user must change that
/// password (the printed first-start one, a temporary one), the session may
/// only change it: the third value says so.
pub fn issue_password_session(
    w: &mut Writer<'_>,
    user_id: i64,
    browser: Option<BrowserPolicy>,
) -> Result<(String, String, bool)> {
    let must: bool = w.conn.query_row(
        "SELECT must_change_password FROM users WHERE id = ?1",
        params![user_id],
        |r| r.get(0),
    )?;
    let (token, expires) = issue_token(w, user_id, browser)?;
    if must {
        w.conn.execute(
            "UPDATE tokens SET password_change = 1 WHERE token_hash = ?1",
            params![keys::hash_secret(&token)],
        )?;
    }
    Ok((token, expires, must))
}

/// A valid session: whose it is, and (for a browser session) when it was
/// last used, so the caller can note a use before the idle clock runs out.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user: User,
    /// Set for a browser session: it ends after this long without use.
    pub idle: Option<chrono::Duration>,
    pub last_used_at: Option<Timestamp>,
    /// Signed in with a password that must be changed: only that is allowed.
    pub password_change: bool,
}

impl Session {
    /// A browser session's use is written down at most every minute (or every
    /// quarter of its idle time, if shorter): a read must not cost a write.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        let Some(idle) = self.idle else {
            return false;
        };
        let every = (idle / 4).min(chrono::Duration::minutes(1));
        self.last_used_at.is_none_or(|at| now - at >= every)
    }
}

/// What a presented session token is.
#[derive(Debug, Clone)]
pub enum Lookup {
    Active(Box<Session>),
    /// It was a session, but its time ran out (idle or absolute): the person
    /// is told they were signed out, not that the token is wrong.
    Expired,
    /// Unknown, revoked (signed out), or its user was deactivated.
    Unknown,
}

/// The session a token belongs to, judged at `now`.
pub fn authenticate(conn: &Connection, token: &str, now: Timestamp) -> Result<Lookup> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS}, t.id, t.expires_at, t.idle_seconds, t.last_used_at, t.created_at,
                t.password_change AND u.must_change_password
         FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.kind = 'session' AND t.revoked_at IS NULL AND u.active = 1"
    ))?;
    let row = stmt
        .query_row(params![keys::hash_secret(token)], |r| {
            Ok((
                from_row(r)?,
                r.get::<_, i64>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, Option<i64>>(11)?,
                r.get::<_, Option<String>>(12)?,
                r.get::<_, String>(13)?,
                r.get::<_, bool>(14)?,
            ))
        })
        .optional()?;
    let Some((user, id, expires_at, idle, last_used, created, password_change)) = row else {
        return Ok(Lookup::Unknown);
    };
    // An unreadable stamp counts as expired: sign in again, never a free pass.
    let Some(expires_at) = time::parse(&expires_at) else {
        return Ok(Lookup::Expired);
    };
    if expires_at <= now {
        return Ok(Lookup::Expired);
    }
    let idle = idle.map(chrono::Duration::seconds);
    let last_used_at = last_used
        .as_deref()
        .or(Some(created.as_str()))
        .and_then(time::parse);
    if let Some(idle) = idle {
        if last_used_at.is_none_or(|at| now - at >= idle) {
            return Ok(Lookup::Expired);
        }
    }
    Ok(Lookup::Active(Box::new(Session {
        id,
        user,
        idle,
        last_used_at,
        password_change,
    })))
}

/// Notes that a browser session was used now (restarting its idle clock).
pub fn touch_session(w: &mut Writer<'_>, id: i64) -> Result<()> {
    w.conn.execute(
        "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND idle_seconds IS NOT NULL",
        params![id, time::fmt(w.now)],
    )?;
    Ok(())
}

pub fn revoke(w: &mut Writer<'_>, token: &str) -> Result<bool> {
    let n = w.conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![keys::hash_secret(token), time::fmt(w.now)],
    )?;
    Ok(n > 0)
}

/// A one-time code that signs `user_id` in (the first-start link).
pub fn issue_login_link(w: &mut Writer<'_>, user_id: i64) -> Result<String> {
    let code = keys::new_login_code();
    w.conn.execute(
        "INSERT INTO tokens (token_hash, user_id, kind, created_at, expires_at) VALUES (?1, ?2, 'login_link', ?3, ?4)",
        params![
            keys::hash_secret(&code),
            user_id,
            time::fmt(w.now),
            time::fmt(w.now + chrono::Duration::hours(LOGIN_LINK_HOURS))
        ],
    )?;
    Ok(code)
}

/// Spends a one-time login code: returns a session token (a browser session
/// under `browser`), or None if the code is unknown, used or expired.
pub fn redeem_login_link(
    w: &mut Writer<'_>,
    code: &str,
    browser: Option<BrowserPolicy>,
) -> Result<Option<(User, String, String)>> {
    let hash = keys::hash_secret(code);
    let user_id: Option<i64> = w
        .conn
        .query_row(
            "SELECT user_id FROM tokens WHERE token_hash = ?1 AND kind = 'login_link'
               AND revoked_at IS NULL AND expires_at > ?2",
            params![hash, time::fmt(w.now)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    w.conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1",
        params![hash, time::fmt(w.now)],
    )?;
    let user = get(w.conn, user_id)?;
    if !user.active {
        return Ok(None);
    }
    let (token, expires) = issue_token(w, user_id, browser)?;
    Ok(Some((user, token, expires)))
}

/// A session for the first active administrator: how the desktop window on
/// the receiver's own computer is signed in without asking for a password.
pub fn admin_session(w: &mut Writer<'_>) -> Result<String> {
    let admin = list(w.conn)?
        .into_iter()
        .find(|u| u.active && u.role == Role::Admin)
        .ok_or_else(|| Error::NotFound("no active administrator".into()))?;
    issue_token(w, admin.id, None).map(|(token, _)| token)
}

/// On a database with no users: creates `admin` with `password_hash` and a
/// one-time login code. Returns None when users already exist. The
/// password was printed (a terminal, a log): signing in with it leads
/// straight to choosing a new one.
pub fn bootstrap_admin(
    w: &mut Writer<'_>,
    password_hash: String,
) -> Result<Option<(User, String)>> {
    if count(w.conn)? > 0 {
        return Ok(None);
    }
    let at = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, departments, created_at, updated_at, must_change_password)
         VALUES ('admin', 'Administrator', ?1, 'admin', '[]', ?2, ?2, 1)",
        params![password_hash, at],
    )?;
    let user = get(w.conn, w.conn.last_insert_rowid())?;
    let code = issue_login_link(w, user.id)?;
    audit::record(
        w,
        &Actor {
            user_id: None,
            name: "system".into(),
        },
        "user.bootstrap",
        Some("admin"),
        serde_json::Value::Null,
    )?;
    Ok(Some((user, code)))
}
