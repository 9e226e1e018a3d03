//! Read-only SQL over the dataset (`iamref sql`): a statement checked to
//! be read-only before it runs, its rows handed out as they come, and a
//! time limit that interrupts the running statement (`sqlite3_interrupt`).

use rusqlite::Connection;

/// The longest statement accepted, in bytes.
pub const MAX_STATEMENT: usize = 1 << 20;

/// Why a statement was not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SqlError<E> {
    /// Longer than [`MAX_STATEMENT`].
    #[error("the SQL statement is longer than 1 MiB")]
    TooLong,
    /// It would write.
    #[error("only read-only statements are allowed (SELECT, WITH, read-only PRAGMA)")]
    NotReadOnly,
    /// SQLite refused or failed it (after `rows` rows).
    #[error("SQL: {message}")]
    Sql { message: String, rows: u64 },
    /// Interrupted by the time limit after `rows` rows.
    #[error("the query was stopped after {rows} row(s)")]
    TimedOut { rows: u64 },
    /// The row consumer failed.
    #[error(transparent)]
    Sink(E),
}

/// One cell of a result row, as SQLite stores it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// UTF-8 as SQLite hands it out (not checked).
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Cell<'_> {
    /// The cell as a JSON value (`iamref sql --format json`): text decoded
    /// (invalid UTF-8 replaced), a blob as `"<N bytes>"`.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(n) => n.into(),
            Cell::Real(f) => serde_json::Value::from(f),
            Cell::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
            Cell::Blob(b) => format!("<{} bytes>", b.len()).into(),
        }
    }
}

/// One result row.
pub struct Row<'a>(&'a rusqlite::Row<'a>);

impl Row<'_> {
    /// Cell `i` (below the column count).
    pub fn get(&self, i: usize) -> Result<Cell<'_>, String> {
        use rusqlite::types::ValueRef;
        Ok(match self.0.get_ref(i).map_err(|e| e.to_string())? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(n) => Cell::Integer(n),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(t),
            ValueRef::Blob(b) => Cell::Blob(b),
        })
    }
}

/// A statement that has been checked to be read-only.
pub struct Statement<'c> {
    conn: &'c Connection,
    stmt: rusqlite::Statement<'c>,
    columns: Vec<String>,
}

/// Prepare `sql`, refusing what is too long, does not parse, or would
/// write.
pub fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
) -> Result<Statement<'c>, SqlError<std::convert::Infallible>> {
    if sql.len() > MAX_STATEMENT {
        return Err(SqlError::TooLong);
    }
    let stmt = conn.prepare(sql).map_err(|e| SqlError::Sql {
        message: e.to_string(),
        rows: 0,
    })?;
    if !stmt.readonly() {
        return Err(SqlError::NotReadOnly);
    }
    let columns = stmt.column_names().map(|s| s.to_string()).collect();
    Ok(Statement {
        conn,
        stmt,
        columns,
    })
}

impl Statement<'_> {
    /// The result's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Run it, handing each row to `f` as it comes; stopped after
    /// `timeout_secs` (0: no limit). The number of rows on success.
    pub fn run<E>(
        mut self,
        timeout_secs: f64,
        mut f: impl FnMut(&Row<'_>) -> Result<(), E>,
    ) -> Result<u64, SqlError<E>> {
        let watchdog = Watchdog::start(self.conn, timeout_secs);
        let failed = |e: rusqlite::Error, rows: u64| {
            if watchdog.fired() {
                SqlError::TimedOut { rows }
            } else {
                SqlError::Sql {
                    message: e.to_string(),
                    rows,
                }
            }
        };
        let mut count = 0u64;
        let mut rows = self.stmt.query([]).map_err(|e| failed(e, 0))?;
        loop {
            match rows.next() {
                Ok(Some(r)) => {
                    count += 1;
                    f(&Row(r)).map_err(SqlError::Sink)?;
                }
                Ok(None) => break,
                Err(e) => return Err(failed(e, count)),
            }
        }
        Ok(count)
    }
}

/// Interrupts the connection's running statement when the deadline passes
/// (`sqlite3_interrupt`), unless dropped first.
struct Watchdog {
    stop: Option<std::sync::mpsc::Sender<()>>,
    fired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    fn start(conn: &Connection, secs: f64) -> Watchdog {
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if secs <= 0.0 {
            return Watchdog { stop: None, fired };
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let handle = conn.get_interrupt_handle();
        let flag = fired.clone();
        let limit = std::time::Duration::from_secs_f64(secs);
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                handle.interrupt();
            }
        });
        Watchdog {
            stop: Some(tx),
            fired,
        }
    }

    fn fired(&self) -> bool {
        self.fired.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type E = SqlError<std::convert::Infallible>;

    #[test]
    fn cells_as_json() {
        use serde_json::json;
        assert_eq!(Cell::Null.to_json(), json!(null));
        assert_eq!(Cell::Integer(-3).to_json(), json!(-3));
        assert_eq!(Cell::Real(2.5).to_json(), json!(2.5));
        assert_eq!(Cell::Text(b"s3\xff").to_json(), json!("s3\u{fffd}"));
        assert_eq!(Cell::Blob(&[1, 2]).to_json(), json!("<2 bytes>"));
    }

    #[test]
    fn rows_come_with_their_cells_and_writes_are_refused() {
        let conn = Connection::open_in_memory().unwrap();
        let st = prepare(
            &conn,
            "SELECT 1 AS a, 2.5 AS b, 'x' AS c, NULL AS d, x'0102' AS e UNION ALL SELECT 2, 0, '', NULL, x''",
        )
        .unwrap();
        assert_eq!(st.columns(), ["a", "b", "c", "d", "e"]);
        let mut seen = Vec::new();
        let n = st
            .run(0.0, |r| {
                seen.push(format!(
                    "{:?}",
                    (0..5).map(|i| r.get(i).unwrap()).collect::<Vec<_>>()
                ));
                Ok::<(), std::convert::Infallible>(())
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            seen[0],
            "[Integer(1), Real(2.5), Text([120]), Null, Blob([1, 2])]"
        );
        assert!(matches!(
            prepare(&conn, "CREATE TABLE t(x)"),
            Err(E::NotReadOnly)
        ));
        assert!(matches!(
            prepare(&conn, "SELEC 1"),
            Err(E::Sql { rows: 0, .. })
        ));
        let long = format!("SELECT '{}'", "x".repeat(MAX_STATEMENT));
        assert!(matches!(prepare(&conn, &long), Err(E::TooLong)));
    }

    #[test]
    fn the_time_limit_interrupts_an_endless_query_and_the_sink_can_stop_it() {
        let conn = Connection::open_in_memory().unwrap();
        let endless =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n";
        let st = prepare(&conn, endless).unwrap();
        let t = std::time::Instant::now();
        match st.run(0.2, |_| Ok::<(), std::convert::Infallible>(())) {
            Err(SqlError::TimedOut { rows }) => assert!(rows > 0),
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
        let st = prepare(&conn, endless).unwrap();
        let mut n = 0;
        let r = st.run(0.0, |_| {
            n += 1;
            if n == 3 {
                Err("enough")
            } else {
                Ok(())
            }
        });
        assert!(matches!(r, Err(SqlError::Sink("enough"))));
    }
}
