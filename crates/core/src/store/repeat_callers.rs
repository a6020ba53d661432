//! Repeat callers: which of a page's numbers called more than once (in the
//! departments the reader may see). One grouped lookup on `calls_number`.

use crate::error::Result;
use rusqlite::Connection;
use std::collections::BTreeSet;

/// Most numbers looked up at once (a page holds at most 1,000 calls).
const MAX_NUMBERS: usize = 1000;

/// The numbers among `numbers` with more than one call, sorted.
/// `departments`: `None` every department; `Some(empty)` none.
pub fn among(
    conn: &Connection,
    numbers: &[String],
    departments: Option<&[String]>,
) -> Result<Vec<String>> {
    let wanted: BTreeSet<&str> = numbers
        .iter()
        .map(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .take(MAX_NUMBERS)
        .collect();
    if wanted.is_empty() || departments.is_some_and(|d| d.is_empty()) {
        return Ok(vec![]);
    }
    let (sql, args) = query(&wanted, departments);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The grouped lookup of `wanted` and its arguments.
fn query(
    wanted: &BTreeSet<&str>,
    departments: Option<&[String]>,
) -> (String, Vec<rusqlite::types::Value>) {
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let ph = |v: String, args: &mut Vec<rusqlite::types::Value>| {
        args.push(v.into());
        format!("?{}", args.len())
    };
    let nums: Vec<String> = wanted
        .iter()
        .map(|n| ph(n.to_string(), &mut args))
        .collect();
    let mut sql = format!(
        "SELECT mobile_number FROM calls WHERE mobile_number IN ({})",
        nums.join(", ")
    );
    if let Some(deps) = departments {
        let d: Vec<String> = deps.iter().map(|d| ph(d.clone(), &mut args)).collect();
        // `+`: the numbers' index finds their calls; a department's index
        // would walk all of its calls (the planner's guess without statistics).
        sql.push_str(&format!(" AND +department IN ({})", d.join(", ")));
    }
    sql.push_str(" GROUP BY mobile_number HAVING COUNT(*) > 1 ORDER BY mobile_number");
    (sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_numbers_are_looked_up_on_the_number_index_not_the_department() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::run(&mut conn).unwrap();
        let wanted: BTreeSet<&str> = ["+919800000001", "+919800000002"].into_iter().collect();
        let deps = vec!["sales".to_string()];
        let (sql, args) = query(&wanted, Some(&deps));
        let plan = crate::store::test_support::query_plan(
            &conn,
            &sql,
            rusqlite::params_from_iter(args.iter()),
        );
        assert!(plan.contains("calls_number"), "{plan}");
        assert!(!plan.contains("calls_dept_created"), "{plan}");
        assert_eq!(
            among(&conn, &["+919800000001".into()], Some(&deps)).unwrap(),
            Vec::<String>::new()
        );
    }
}
