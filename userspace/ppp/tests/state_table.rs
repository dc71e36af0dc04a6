//! Every cell of the RFC 1661 §4.1 state transition table, driven through the real automaton
//! (with the real LCP negotiator) by real packets and calls, checking the packets sent, the
//! layer signals, the restart counter and the next state.
//!
//! The expected table below is transcribed from the RFC text independently of
//! `src/state_table.rs`.

use std::time::{Duration, Instant};

use ppp::entropy::Entropy;
use ppp::fsm::{Fsm, FsmConfig, FsmOutput, LayerSignal, State};
use ppp::lcp::{Lcp, LcpConfig};
use ppp::options::LcpOption;
use ppp::packet::{encode_options, encode_packet, RawPacket};

const RFC_TABLE: &str = "
      | 0         1         2         3         4         5         6         7         8         9
Up    | 2         irc,scr/6 -         -         -         -         -         -         -         -
Down  | -         -         0         tls/1     0         1         1         1         1         tld/1
Open  | tls/1     1         irc,scr/6 3r        5r        5r        6         7         8         9r
Close | 0         tlf/0     2         2         4         4         irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
TO+   | -         -         -         -         str/4     str/5     scr/6     scr/6     scr/8     -
TO-   | -         -         -         -         tlf/2     tlf/3     tlf/3p    tlf/3p    tlf/3p    -
RCR+  | -         -         sta/2     irc,scr,sca/8 4     5         sca/8     sca,tlu/9 sca/8     tld,scr,sca/8
RCR-  | -         -         sta/2     irc,scr,scn/6 4     5         scn/6     scn/7     scn/6     tld,scr,scn/6
RCA   | -         -         sta/2     sta/3     4         5         irc/7     scr/6x    irc,tlu/9 tld,scr/6x
RCN   | -         -         sta/2     sta/3     4         5         irc,scr/6 scr/6x    irc,scr/8 tld,scr/6x
RTR   | -         -         sta/2     sta/3     sta/4     sta/5     sta/6     sta/6     sta/6     tld,zrc,sta/5
RTA   | -         -         2         3         tlf/2     tlf/3     6         6         8         tld,scr/6
RUC   | -         -         scj/2     scj/3     scj/4     scj/5     scj/6     scj/7     scj/8     scj/9
RXJ+  | -         -         2         3         4         5         6         6         8         9
RXJ-  | -         -         tlf/2     tlf/3     tlf/2     tlf/3     tlf/3     tlf/3     tlf/3     tld,irc,str/5
RXR   | -         -         2         3         4         5         6         7         8         ser/9
";

/// Cells where this implementation deliberately departs from the literal table, as pppd does:
/// a second Configure-Ack/Nak/Reject for a request already answered is a duplicate (our request
/// was retransmitted on a lossy link and answered twice) and is discarded. The only reply the
/// automaton could receive in Ack-Rcvd or Opened carries the identifier of the request already
/// answered, so these cells can only be reached by a duplicate.
const DUPLICATE_REPLY_CELLS: [(usize, &str); 4] = [(7, "RCA"), (7, "RCN"), (9, "RCA"), (9, "RCN")];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obs {
    Tlu,
    Tld,
    Tls,
    Tlf,
    Scr,
    Sca,
    Scn,
    Str,
    Sta,
    Scj,
    Ser,
}

struct Cell {
    actions: Vec<String>,
    next: usize,
}

fn parse_table() -> Vec<(String, Vec<Option<Cell>>)> {
    let mut rows = Vec::new();
    for line in RFC_TABLE.lines().skip(2) {
        if line.trim().is_empty() {
            continue;
        }
        let (event, cells) = line.split_once('|').expect("row has a bar");
        let cells: Vec<Option<Cell>> = cells
            .split_whitespace()
            .map(|c| {
                if c == "-" {
                    return None;
                }
                let (actions, next) = match c.rsplit_once('/') {
                    Some((a, n)) => (a.split(',').map(str::to_string).collect(), n),
                    None => (Vec::new(), c),
                };
                let next = next
                    .trim_end_matches(['r', 'p', 'x'])
                    .parse()
                    .expect("state");
                Some(Cell { actions, next })
            })
            .collect();
        assert_eq!(cells.len(), 10, "row {event}");
        rows.push((event.trim().to_string(), cells));
    }
    assert_eq!(rows.len(), 16);
    rows
}

const PEER_MAGIC: u32 = 0x1111_1111;

struct Harness {
    fsm: Fsm<Lcp>,
    now: Instant,
    /// Our last Configure-Request (id, options) as sent.
    last_request: Option<(u8, Vec<u8>)>,
    config: FsmConfig,
}

impl Harness {
    fn new(config: FsmConfig) -> Self {
        let lcp = Lcp::new(LcpConfig::authenticator(), Entropy::new([7; 16]));
        Harness {
            fsm: Fsm::new(lcp, config, 40),
            now: Instant::now(),
            last_request: None,
            config,
        }
    }

    fn drain(&mut self) -> Vec<Obs> {
        let mut obs = Vec::new();
        while let Some(o) = self.fsm.poll_output() {
            obs.push(match o {
                FsmOutput::Signal(LayerSignal::Up) => Obs::Tlu,
                FsmOutput::Signal(LayerSignal::Down) => Obs::Tld,
                FsmOutput::Signal(LayerSignal::Started) => Obs::Tls,
                FsmOutput::Signal(LayerSignal::Finished) => Obs::Tlf,
                FsmOutput::Send(p) => {
                    let raw = RawPacket::decode(&p).expect("we send valid packets");
                    match raw.code {
                        1 => {
                            self.last_request = Some((raw.id, raw.data.to_vec()));
                            Obs::Scr
                        }
                        2 => Obs::Sca,
                        3 | 4 => Obs::Scn,
                        5 => Obs::Str,
                        6 => Obs::Sta,
                        7 => Obs::Scj,
                        10 => Obs::Ser,
                        c => panic!("unexpected code {c}"),
                    }
                }
            });
        }
        obs
    }

    fn packet(&mut self, p: Vec<u8>) {
        let _ = self.fsm.handle_packet(self.now, &p);
    }

    fn event(&mut self, name: &str) {
        match name {
            "Up" => self.fsm.up(self.now),
            "Down" => self.fsm.down(self.now),
            "Open" => self.fsm.open(self.now),
            "Close" => self.fsm.close(self.now, b"bye"),
            "TO+" | "TO-" => {
                // The table's "-" for TO in timer-less states: a late timer call does nothing.
                self.now += Duration::from_secs(3600);
                self.fsm.handle_timeout(self.now);
            }
            "RCR+" => {
                let opts = encode_options(&[LcpOption::MagicNumber(PEER_MAGIC)]);
                self.packet(encode_packet(1, 90, &[&opts]))
            }
            "RCR-" => {
                let opts = encode_options(&[LcpOption::Other {
                    kind: 99,
                    data: vec![1],
                }]);
                self.packet(encode_packet(1, 91, &[&opts]))
            }
            "RCA" => {
                let (id, opts) = self.last_request.clone().unwrap_or((200, Vec::new()));
                self.packet(encode_packet(2, id, &[&opts]))
            }
            "RCN" => {
                let (id, _) = self.last_request.clone().unwrap_or((200, Vec::new()));
                let opts = encode_options(&[LcpOption::Mru(1400)]);
                self.packet(encode_packet(3, id, &[&opts]))
            }
            "RTR" => self.packet(encode_packet(5, 92, &[b"peer"])),
            "RTA" => self.packet(encode_packet(6, 93, &[])),
            "RUC" => self.packet(encode_packet(99, 94, &[b"x"])),
            // Code-Reject of Echo-Request: permitted.
            "RXJ+" => self.packet(encode_packet(7, 95, &[&encode_packet(9, 1, &[&[0; 4]])])),
            // Code-Reject of Configure-Request: catastrophic.
            "RXJ-" => self.packet(encode_packet(7, 96, &[&encode_packet(1, 1, &[])])),
            "RXR" => self.packet(encode_packet(9, 97, &[&0x2222_2222u32.to_be_bytes()])),
            e => panic!("unknown event {e}"),
        }
    }

    /// Reaches `state` through real events.
    fn reach(&mut self, state: usize) {
        let path: &[&str] = match state {
            0 => &[],
            1 => &["Open"],
            2 => &["Up"],
            3 => &["Up", "Open", "RXJ-"],
            4 => &["Up", "Open", "Close"],
            5 => &["Up", "Open", "RCR+", "RCA", "RXJ-"],
            6 => &["Up", "Open"],
            7 => &["Up", "Open", "RCA"],
            8 => &["Up", "Open", "RCR+"],
            9 => &["Up", "Open", "RCR+", "RCA"],
            _ => unreachable!(),
        };
        for e in path {
            self.event(e);
            self.drain();
        }
        assert_eq!(self.fsm.state(), State::ALL[state], "reaching {state}");
    }

    /// Fires TO+/TO- for real: at the deadline, the counter decides.
    fn timeout(&mut self) {
        let deadline = self.fsm.poll_timeout().expect("timer armed");
        self.now = deadline;
        self.fsm.handle_timeout(self.now);
    }
}

fn observe(action: &str) -> Option<Obs> {
    Some(match action {
        "tlu" => Obs::Tlu,
        "tld" => Obs::Tld,
        "tls" => Obs::Tls,
        "tlf" => Obs::Tlf,
        "scr" => Obs::Scr,
        "sca" => Obs::Sca,
        "scn" => Obs::Scn,
        "str" => Obs::Str,
        "sta" => Obs::Sta,
        "scj" => Obs::Scj,
        "ser" => Obs::Ser,
        "irc" | "zrc" => return None,
        a => panic!("unknown action {a}"),
    })
}

#[test]
fn every_transition_of_rfc1661_table() {
    let mut checked = 0;
    for (event, cells) in parse_table() {
        for (state, cell) in cells.iter().enumerate() {
            let has_timer = matches!(state, 4..=8);
            let timed = event.starts_with("TO") && has_timer;
            // TO- needs an exhausted counter: a zero Max-Configure/Max-Terminate gives one.
            let config = if event == "TO-" {
                FsmConfig {
                    max_configure: 0,
                    max_terminate: 0,
                    ..FsmConfig::default()
                }
            } else {
                FsmConfig::default()
            };
            let mut h = Harness::new(config);
            h.reach(state);
            let discarded_before = h.fsm.stats().discarded;
            if timed {
                let before = h.fsm.restart_count();
                assert_eq!(
                    before > 0,
                    event == "TO+",
                    "{event} in {state}: counter {before}"
                );
                h.timeout();
            } else {
                h.event(&event);
            }
            let obs = h.drain();
            let ctx = format!("state {state} event {event}: observed {obs:?}");
            let duplicate = DUPLICATE_REPLY_CELLS.contains(&(state, event.as_str()));
            match cell {
                Some(cell) if !duplicate => {
                    let expected: Vec<Obs> =
                        cell.actions.iter().filter_map(|a| observe(a)).collect();
                    assert_eq!(obs, expected, "{ctx}");
                    assert_eq!(h.fsm.state(), State::ALL[cell.next], "{ctx}");
                    let sends = obs.contains(&Obs::Scr) || obs.contains(&Obs::Str);
                    if cell.actions.iter().any(|a| a == "irc") {
                        let max = if obs.contains(&Obs::Str) {
                            h.config.max_terminate
                        } else {
                            h.config.max_configure
                        };
                        let expect = if sends { max.saturating_sub(1) } else { max };
                        assert_eq!(h.fsm.restart_count(), expect, "irc: {ctx}");
                    }
                    if cell.actions.iter().any(|a| a == "zrc") {
                        assert_eq!(h.fsm.restart_count(), 0, "zrc: {ctx}");
                        assert!(h.fsm.poll_timeout().is_some(), "zrc arms the timer: {ctx}");
                    }
                    if sends {
                        assert!(h.fsm.poll_timeout().is_some(), "timer after send: {ctx}");
                    }
                    if !State::ALL[cell.next].timer_runs() {
                        assert_eq!(h.fsm.poll_timeout(), None, "timer stopped: {ctx}");
                    }
                }
                _ => {
                    // "-" (cannot happen) and duplicate replies: ignored, nothing changes.
                    assert!(obs.is_empty(), "{ctx}");
                    assert_eq!(h.fsm.state(), State::ALL[state], "{ctx}");
                    if !event.starts_with("TO")
                        && !matches!(event.as_str(), "Up" | "Down" | "Open" | "Close")
                        || duplicate
                    {
                        assert!(h.fsm.stats().discarded > discarded_before, "counted: {ctx}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 160);
}

#[test]
fn pure_table_matches_transcription() {
    use ppp::fsm::{transition, Event};
    let names = [
        "Up", "Down", "Open", "Close", "TO+", "TO-", "RCR+", "RCR-", "RCA", "RCN", "RTR", "RTA",
        "RUC", "RXJ+", "RXJ-", "RXR",
    ];
    for (row, (event, cells)) in parse_table().into_iter().enumerate() {
        assert_eq!(event, names[row]);
        for (s, cell) in cells.iter().enumerate() {
            let got = transition(State::ALL[s], Event::ALL[row]);
            match (cell, got) {
                (None, None) => {}
                (Some(c), Some(t)) => {
                    let actions: Vec<String> = t
                        .actions
                        .iter()
                        .map(|a| format!("{a:?}").to_lowercase())
                        .collect();
                    assert_eq!(actions, c.actions, "{event} in {s}");
                    assert_eq!(t.next, State::ALL[c.next], "{event} in {s}");
                }
                (c, t) => panic!(
                    "{event} in {s}: expected {:?}, got {t:?}",
                    c.as_ref().map(|c| &c.actions)
                ),
            }
        }
    }
}
