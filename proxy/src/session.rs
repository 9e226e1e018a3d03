//! A recording session of `iamref record`: the events of its sources (the
//! CSM socket, [`crate::csm`], and the proxy, [`crate::start`]) taken in
//! one loop, counted, turned into calls, mapped into a
//! [`Recording`](iamref_policy::record::Recording) and written to the call
//! log, until the caller's stop flag or the deadline; then what the
//! sources still sent is drained.
//!
//! The session words nothing: what it has to say comes to the caller's
//! [`View`] as a typed [`Notice`], each mapped call as its
//! [`Outcome`], and the caller renders the live view and the end report.
//! The mapping itself is `iamref_policy::record` (pure).

use crate::csm::Receiving;
use crate::{Event, Proxy, Sink};
use iamref_policy::record::ops::OperationIndex;
use iamref_policy::record::{csm, log, service_ids, Call, Options, Outcome, Recording, ServiceRef};
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the sources send the session.
#[derive(Debug)]
pub enum Msg {
    /// A CSM datagram.
    Data(Vec<u8>),
    /// A CSM datagram too large to read (measured, not copied).
    Oversized,
    /// What the proxy saw.
    Proxy(Event),
}

/// At most this many distinct proxy problems are told as they come
/// ([`Notice::NotRecorded`], [`Notice::ProxyProblem`]); all are counted.
pub const SHOW_PROBLEMS: u64 = 20;

/// Messages waiting for the session at most (a full channel makes the
/// sources wait: nothing is dropped on the way).
const CHANNEL: usize = 1 << 16;

/// Counters of a recording session.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub datagrams: u64,
    pub calls: u64,
    pub attempts: u64,
    pub malformed: u64,
    pub oversized: u64,
    /// Requests the proxy intercepted (AWS calls or not).
    pub proxied: u64,
    /// Intercepted requests that are no AWS API call iamref knows.
    pub proxy_unknown: u64,
    /// Requests the proxy could not read or forward (answered with an error).
    pub proxy_malformed: u64,
    /// CONNECTs to other hosts, tunneled untouched.
    pub tunneled: u64,
}

/// What the session has to say as it goes; the caller words it.
#[derive(Debug)]
pub enum Notice<'a> {
    /// Calls came from another account: every account seen so far.
    /// `per_attempt`: CSM, where each call is scoped to the account of
    /// the attempt before it; else the proxy.
    Accounts {
        accounts: &'a BTreeSet<String>,
        per_attempt: bool,
    },
    /// An intercepted request that is no AWS API call iamref knows (the
    /// first [`SHOW_PROBLEMS`], each distinct one once).
    NotRecorded(&'a str),
    /// A request the proxy could not read or forward (likewise).
    ProxyProblem(&'a str),
}

/// The caller's side of a session: the live view.
pub trait View {
    /// Something to tell ([`Notice`]).
    fn notice(&mut self, notice: Notice<'_>);
    /// A call was mapped into the recording (after the call log has it).
    fn call(&mut self, session: &Session<'_>, outcome: &Outcome, call: &Call)
        -> anyhow::Result<()>;
    /// No event for a while (every 100 ms at most while nothing comes).
    fn idle(&mut self, session: &Session<'_>);
}

/// Why a session ended early.
#[derive(Debug)]
pub enum SessionError {
    /// Writing the call log failed: the session stopped, drained its
    /// sources, and nothing was published.
    Log(std::io::Error),
    /// The view failed (its output closed): the session ended at once.
    View(anyhow::Error),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Log(e) => e.fmt(f),
            SessionError::View(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {}

/// The sources of a session and its channel: the CSM receiver and the
/// proxy, both stopped by the one `stop` flag.
pub struct Sources {
    stop: Arc<AtomicBool>,
    tx: Option<SyncSender<Msg>>,
    rx: Receiver<Msg>,
    csm: Option<Receiving>,
    proxy: Option<Proxy>,
}

impl Sources {
    /// A channel for sources that stop when `stop` is set.
    pub fn new(stop: Arc<AtomicBool>) -> Sources {
        let (tx, rx) = mpsc::sync_channel::<Msg>(CHANNEL);
        Sources {
            stop,
            tx: Some(tx),
            rx,
            csm: None,
            proxy: None,
        }
    }

    /// The stop flag the sources share.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Where the proxy sends its events ([`crate::start`]'s sink).
    pub fn proxy_sink(&self) -> Sink {
        let tx = self.tx.clone();
        Arc::new(move |e| {
            if let Some(tx) = &tx {
                let _ = tx.send(Msg::Proxy(e));
            }
        })
    }

    /// The running proxy, stopped and joined with the others.
    pub fn add_proxy(&mut self, p: Proxy) {
        self.proxy = Some(p);
    }

    /// The running proxy (its address and CA certificate).
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// Start reading the CSM socket into the channel.
    pub fn add_csm(&mut self, l: crate::csm::Listener) -> std::io::Result<()> {
        if let Some(tx) = &self.tx {
            self.csm = Some(l.start(self.stop.clone(), tx.clone())?);
        }
        Ok(())
    }

    /// The kernel's count of CSM datagrams it dropped (`None` without a
    /// CSM socket, or where that is not readable).
    pub fn kernel_drops(&self) -> Option<u64> {
        self.csm.as_ref().and_then(Receiving::kernel_drops)
    }

    fn join(&mut self) {
        if let Some(r) = self.csm.as_mut() {
            r.join();
        }
        if let Some(p) = self.proxy.take() {
            p.join();
        }
    }
}

/// The state of one recording session.
pub struct Session<'a> {
    idx: &'a OperationIndex,
    pub recording: Recording,
    pub counters: Counters,
    /// The account calls are scoped to: CSM's latest attempt's, else the
    /// first proxied call's.
    pub account: Option<String>,
    accounts_seen: BTreeSet<String>,
    problems: BTreeSet<String>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `acct` among the accounts seen: a second account, and each one after,
/// is told (`per_attempt`: seen in CSM attempts rather than proxied calls).
fn saw_account(seen: &mut BTreeSet<String>, acct: &str, per_attempt: bool, view: &mut dyn View) {
    if !seen.contains(acct) {
        seen.insert(acct.to_string());
        if seen.len() > 1 {
            view.notice(Notice::Accounts {
                accounts: seen,
                per_attempt,
            });
        }
    }
}

impl<'a> Session<'a> {
    pub fn new(idx: &'a OperationIndex, options: Options) -> Session<'a> {
        Session {
            idx,
            recording: Recording::new(options),
            counters: Counters::default(),
            account: None,
            accounts_seen: BTreeSet::new(),
            problems: BTreeSet::new(),
        }
    }

    /// Events seen so far (datagrams and proxied requests) and calls
    /// recorded: what a status line shows changes with these.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.counters.datagrams + self.counters.proxied,
            self.recording.stats.calls,
        )
    }

    /// Take the sources' events until their stop flag is set, `deadline`
    /// passes or every source is gone; then stop and join the sources and
    /// take what they still sent. Each call is mapped, written to `log`
    /// (one JSON line, CloudTrail-shaped, no credential) and handed to the
    /// view.
    pub fn run(
        &mut self,
        sources: &mut Sources,
        deadline: Option<Instant>,
        mut log: Option<&mut dyn Write>,
        view: &mut dyn View,
    ) -> Result<(), SessionError> {
        // The sources hold the only senders: the channel closes when they end.
        sources.tx = None;
        let stop = sources.stop.clone();
        let mut log_err: Option<std::io::Error> = None;
        // After the stop: the sources are stopped and joined, what they
        // sent is drained.
        let mut draining = false;
        loop {
            let msg = if draining {
                match sources.rx.try_recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            } else {
                if stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d) {
                    stop.store(true, Ordering::SeqCst);
                    sources.join();
                    draining = true;
                    continue;
                }
                match sources.rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        view.idle(self);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        stop.store(true, Ordering::SeqCst);
                        continue;
                    }
                }
            };
            let Some((call, datagram)) = self.take(msg, view) else {
                continue;
            };
            let outcome = self.recording.add(self.idx, &call);
            if let (Some(l), None) = (log.as_mut(), &log_err) {
                let prefix = log_prefix(&outcome, &call);
                let entry = match &datagram {
                    Some(d) => {
                        log::csm_line(d, self.account.as_deref(), prefix.as_deref(), now_ms())
                    }
                    None => log::proxy_line(&call, prefix.as_deref(), now_ms()),
                };
                let mut line = entry.to_string().into_bytes();
                line.push(b'\n');
                if let Err(e) = l.write_all(&line) {
                    log_err = Some(e);
                    stop.store(true, Ordering::SeqCst);
                }
            }
            view.call(self, &outcome, &call)
                .map_err(SessionError::View)?;
        }
        match log_err {
            Some(e) => Err(SessionError::Log(e)),
            None => Ok(()),
        }
    }

    /// One message counted; the call it carries, with its datagram (CSM).
    fn take(&mut self, msg: Msg, view: &mut dyn View) -> Option<(Call, Option<csm::Datagram>)> {
        let c = &mut self.counters;
        match msg {
            Msg::Proxy(e) => match e {
                Event::Call(call) => {
                    c.proxied += 1;
                    c.calls += 1;
                    if let Some(acct) = &call.account {
                        saw_account(&mut self.accounts_seen, acct, false, view);
                        self.account.get_or_insert_with(|| acct.clone());
                    }
                    Some((*call, None))
                }
                Event::Unknown(why) => {
                    c.proxied += 1;
                    c.proxy_unknown += 1;
                    if c.proxy_unknown <= SHOW_PROBLEMS && self.problems.insert(why.clone()) {
                        view.notice(Notice::NotRecorded(&why));
                    }
                    None
                }
                Event::Malformed(why) => {
                    c.proxy_malformed += 1;
                    if c.proxy_malformed <= SHOW_PROBLEMS && self.problems.insert(why.clone()) {
                        view.notice(Notice::ProxyProblem(&why));
                    }
                    None
                }
                Event::Tunneled(_) => {
                    c.tunneled += 1;
                    None
                }
            },
            msg => {
                c.datagrams += 1;
                let Msg::Data(bytes) = msg else {
                    c.oversized += 1;
                    return None;
                };
                let d = match csm::parse(&bytes) {
                    Ok(d) => d,
                    Err(csm::CsmError::Oversized(_)) => {
                        c.oversized += 1;
                        return None;
                    }
                    Err(_) => {
                        c.malformed += 1;
                        return None;
                    }
                };
                drop(bytes);
                if d.kind == Some(csm::Kind::ApiCallAttempt) {
                    c.attempts += 1;
                    if let Some(acct) = &d.account {
                        saw_account(&mut self.accounts_seen, acct, true, view);
                        self.account = Some(acct.clone());
                    }
                    return None;
                }
                c.calls += 1;
                let call = Call {
                    at: format!("datagram {}", c.datagrams),
                    service: Some(ServiceRef::SdkId(d.service.clone())),
                    operation: d.api.clone(),
                    region: d.region.clone(),
                    account: self.account.clone(),
                    status: d.final_http_status,
                    error: d.failure().map(str::to_string),
                    denied_action: d.denied_action.clone(),
                    ..Default::default()
                };
                Some((call, Some(d)))
            }
        }
    }
}

/// The service prefix a call log line names: the mapped action's, else
/// the IAM prefix of the call's SDK service id.
fn log_prefix(outcome: &Outcome, call: &Call) -> Option<String> {
    match outcome {
        Outcome::Mapped { call, .. } | Outcome::NoPermission { call, .. } => {
            call.split(':').next().map(str::to_string)
        }
        Outcome::Unmapped { .. } => match &call.service {
            Some(ServiceRef::SdkId(id)) => service_ids::lookup(id)
                .and_then(|r| r.iam_prefix)
                .map(str::to_string),
            _ => None,
        },
    }
}
