//! Fuzzed input for the recorder: arbitrary and mutated CSM datagrams
//! (parsed in process and sent to a running `iamref record`), arbitrary
//! CloudTrail streams, and the access-key account decoding.

use crate::support::record::*;
use iamref_policy::record::cloudtrail::{self, Filter, ReadStats, Splitter};
use iamref_policy::record::csm;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::net::UdpSocket;
use std::time::Duration;

const VALID: &str = r#"{"Version":1,"ClientId":"","Type":"ApiCallAttempt","Service":"SQS","Api":"SendMessage","Timestamp":1795617912590,"Fqdn":"127.0.0.1","AccessKey":"ASIABZPUZDIKODPLZGTY","Region":"us-east-1","SessionToken":"IAMREFCONSTRUCTEDSESSIONTOKENNOTREAL","HttpStatusCode":200}"#;

fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(pos, byte, op) in edits {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let i = pos % v.len();
        match op % 3 {
            0 => v[i] = byte,
            1 => {
                v.remove(i);
            }
            _ => v.insert(i, byte),
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = csm::parse(&bytes);
    }

    #[test]
    fn mutated_datagrams_never_leak_credentials(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8)
    ) {
        let d = mutate(VALID.as_bytes(), &edits);
        let shown = match csm::parse(&d) {
            Ok(x) => format!("{x:?}"),
            Err(e) => format!("{e} {e:?}"),
        };
        prop_assert!(!shown.contains("IAMREFCONSTRUCTEDSESSIONTOKEN"), "{}", shown);
        prop_assert!(!shown.contains("ZPUZDIKODPLZ"), "{}", shown);
    }

    #[test]
    fn access_keys_round_trip(account in 0u64..=999_999_999_999, salt in any::<u64>()) {
        let k = csm::access_key_for_account("AKIA", account, salt);
        prop_assert_eq!(k.len(), 20);
        if !matches!(k.as_bytes()[4], b'I' | b'J') {
            prop_assert_eq!(csm::account_from_access_key(&k), Some(format!("{account:012}")));
        }
    }

    #[test]
    fn arbitrary_trails_never_panic(bytes in proptest::collection::vec(
        prop_oneof![Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\\'),
                    Just(b','), Just(b':'), Just(b'\n'), any::<u8>()], 0..512)) {
        let mut s = Splitter::new(&bytes[..]);
        let mut n = 0;
        while let Ok(Some(_)) = s.next_record() {
            n += 1;
            prop_assert!(n <= bytes.len());
        }
        let mut stats = ReadStats::default();
        let _ = cloudtrail::read(&bytes[..], "fuzz", &Filter::default(), &mut stats, |_| {});
    }
}

#[test]
fn recorder_survives_fuzzed_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(dir.path(), &[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strat = proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6);
    let mut sent = 0;
    for _ in 0..300 {
        let edits = strat.new_tree(&mut runner).unwrap().current();
        sock.send_to(&mutate(VALID.as_bytes(), &edits), &rec.addr)
            .unwrap();
        sent += 1;
    }
    let call = r#"{"Version":1,"Type":"ApiCall","Service":"SQS","Api":"SendMessage","Region":"us-east-1","FinalHttpStatusCode":200}"#;
    sock.send_to(call.as_bytes(), &rec.addr).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, err) = rec.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(&format!("{} datagram(s)", sent + 1)), "{err}");
    // Every datagram taken in: the kernel's drop counter is read and says so.
    assert!(err.contains("0 dropped by the kernel"), "{err}");
    assert!(!err.contains("the kernel dropped"), "{err}");
    assert!(out.contains("sqs:SendMessage"), "{out}");
    for t in [
        &out,
        &err,
        &std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap(),
    ] {
        assert!(
            !t.contains("IAMREFCONSTRUCTEDSESSIONTOKEN") && !t.contains(KEY),
            "{t}"
        );
    }
}

#[test]
fn datagrams_the_kernel_drops_are_reported() {
    // The recorder stopped (SIGSTOP) while 200,000 datagrams arrive: its
    // receive buffer (at most net.core.rmem_max) overflows and the kernel
    // drops the rest. The run says how many, as a warning even under -q.
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(dir.path(), &["-q"]);
    let pid = rec.child.id().to_string();
    let signal = |s: &str| {
        let ok = std::process::Command::new("kill")
            .args([s, &pid])
            .status()
            .is_ok_and(|st| st.success());
        assert!(ok, "kill {s}");
    };
    signal("-STOP");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = r#"{"Version":1,"Type":"ApiCall","Service":"SQS","Api":"SendMessage","Region":"us-east-1","FinalHttpStatusCode":200}"#;
    let mut sent = 0u64;
    for _ in 0..200_000 {
        if sock.send_to(call.as_bytes(), &rec.addr).is_ok() {
            sent += 1;
        }
    }
    signal("-CONT");
    std::thread::sleep(Duration::from_millis(500));
    let (code, _out, err) = rec.stop();
    assert_eq!(code, Some(0), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("the kernel dropped"))
        .unwrap_or_else(|| panic!("no drop warning: {err}"));
    assert!(line.starts_with("iamref: warning: "), "{line}");
    let n: u64 = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap();
    assert!(n > 0 && n < sent, "{n} of {sent}: {err}");
}
