//! Replays the committed seeds of the `acl` fuzz corpus through the fuzz entry point (how
//! `make check` runs the corpus on stable), and keeps the seeds themselves meaningful.

use std::fs;
use std::path::Path;

use lns_dataplane::fuzzing;

const WEB: &str = "ip access-list extended web\n permit tcp any host 192.0.2.80 eq 80\n \
                   permit tcp any any established\n deny tcp any any match-all +syn -ack\n \
                   permit udp any range 1000 2000 any neq 53\n permit ip any any fragments\n \
                   deny ip any any\nexit\n";
const OFFICE: &str = "ip access-list standard office\n permit 10.1.0.0 0.0.255.255\n \
                      deny host 10.2.0.1\n permit any\nexit\n";
const PORTS: &str = "ip access-list extended ports\n deny udp any host 10.202.0.2 eq 9000\n \
                     permit udp any gt 1023 10.202.0.0 0.0.0.255 lt 9002\n \
                     permit tcp any any match-any +fin +rst\nexit\n";

/// An IPv4 packet of `proto` with ports and TCP flags where the protocol has them.
fn packet(proto: u8, src: [u8; 4], dst: [u8; 4], ports: (u16, u16), flags: u8) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[20..22].copy_from_slice(&ports.0.to_be_bytes());
    p[22..24].copy_from_slice(&ports.1.to_be_bytes());
    p[33] = flags;
    p
}

fn packets() -> Vec<Vec<u8>> {
    let user = [10, 1, 2, 3];
    let mut later = packet(6, user, [192, 0, 2, 80], (40000, 80), 0);
    later[6..8].copy_from_slice(&0x0020u16.to_be_bytes());
    let mut options = packet(17, user, [10, 202, 0, 2], (5000, 9001), 0);
    options[0] = 0x46;
    vec![
        packet(6, user, [192, 0, 2, 80], (40000, 80), 0x02),
        packet(6, user, [8, 8, 8, 8], (40000, 443), 0x10),
        packet(6, user, [8, 8, 8, 8], (40000, 443), 0x02),
        packet(17, user, [10, 202, 0, 2], (1500, 9000), 0),
        packet(17, [10, 2, 0, 1], [10, 202, 0, 2], (5000, 9001), 0),
        packet(17, user, [8, 8, 8, 8], (1500, 53), 0),
        packet(1, user, [8, 8, 8, 8], (0x0800, 0), 0),
        later,
        options,
        packet(6, user, [192, 0, 2, 80], (40000, 80), 0)[..22].to_vec(),
        vec![0x45],
        vec![0x60; 40],
    ]
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("extended-web", fuzzing::seed(WEB, &packets())),
        ("standard-office", fuzzing::seed(OFFICE, &packets())),
        ("extended-ports", fuzzing::seed(PORTS, &packets())),
        (
            "all-three",
            fuzzing::seed(&format!("{WEB}{OFFICE}{PORTS}"), &packets()),
        ),
        (
            "parse-error",
            fuzzing::seed("ip access-list odd x\n permit\n", &packets()),
        ),
    ]
}

#[test]
fn acl_corpus() {
    let n = corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), "acl", fuzzing::acl);
    assert!(n >= seeds().len(), "{n} seeds");
}

/// The committed seeds are the ones [`seeds`] builds (regenerate them after changing it).
#[test]
fn committed_seeds_are_current() {
    let dir = corpus_replay::corpus_dir(env!("CARGO_MANIFEST_DIR"), "acl");
    for (name, data) in seeds() {
        let committed = fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            committed == data,
            "fuzz/corpus/acl/{name} is stale: run regenerate_seed_corpus"
        );
    }
}

/// The seeds reach the matcher: every list parses and each packet decides something.
#[test]
fn seeds_parse_into_lists() {
    for text in [WEB, OFFICE, PORTS] {
        let l = lns_config::config::parse("seed", text).expect(text);
        assert_eq!(l.config.access_lists.len(), 1, "{text}");
        let acl = lns_dataplane::acl::AccessList::compile(&l.config.access_lists[0]);
        let permitted = packets().iter().filter(|p| acl.permits(p)).count();
        assert!(
            permitted > 0 && permitted < packets().len(),
            "{text}: {permitted}"
        );
    }
}

/// Without cargo-fuzz at hand: every seed with single bytes overwritten, a few thousand
/// variants of text and packets, must not panic either (a deterministic generator, so a
/// failure repeats).
#[test]
fn mutated_seeds_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (_, seed) in seeds() {
        for _ in 0..1000 {
            let mut d = seed.clone();
            for _ in 0..=(next() % 4) {
                let i = (next() % d.len() as u64) as usize;
                d[i] = next() as u8;
            }
            let cut = (next() % (d.len() as u64 + 1)) as usize;
            fuzzing::acl(&d[..cut.max(d.len() / 2)]);
        }
    }
}

/// `cargo test -p lns-dataplane --test fuzz_corpus -- --ignored regenerate_seed_corpus`
#[test]
#[ignore]
fn regenerate_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/acl");
    fs::create_dir_all(&dir).unwrap();
    for (name, data) in seeds() {
        fs::write(dir.join(name), data).unwrap();
    }
}
