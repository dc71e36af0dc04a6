//! Subscriber policy through the endpoint, in memory: the plugins reading RADIUS replies
//! (autothrottle, autosnoop, Filter-Id), the garden plugin taking rejected users in, the
//! external hook's actions, and a policy surviving a SIGTERM save and resume.

mod common;

use common::*;
use lns_core::{Action, Command, HookEvent, Reply, Target};
use radius::{acct_status_type as status, Attribute, Vsa};

fn avpair(text: &str) -> Attribute {
    Attribute::VendorSpecific(Vsa::CiscoAvPair(text.as_bytes().to_vec()))
}

fn policy(w: &mut World, user: &str) -> lns_core::Policy {
    w.sessions()
        .into_iter()
        .find(|s| s.user == user)
        .unwrap_or_else(|| panic!("{user} has a session"))
        .policy
}

#[test]
fn access_accept_avpairs_and_filter_id_set_the_policy_only_with_the_plugins() {
    let acl = "ip access-list standard office\n permit any\nexit\n";
    let mut w = World::new(
        config(&format!(
            "load plugin \"autothrottle\"\nload plugin \"autosnoop\"\n{acl}"
        )),
        16,
    );
    let lac = w.add_lac(None);
    w.radius.add(
        "alice",
        "pw",
        vec![
            avpair("lcp:interface-config#1=service-policy input 512"),
            avpair("lcp:interface-config#2=service-policy output 2048"),
            avpair("intercept=198.51.100.7:4000"),
            Attribute::FilterId(b"office.out".to_vec()),
        ],
    );
    w.login(lac, "alice", "pw").expect("alice up");
    let p = policy(&mut w, "alice");
    assert_eq!((p.throttle_in, p.throttle_out), (Some(512), Some(2048)));
    assert_eq!(p.snoop, Some("198.51.100.7:4000".parse().unwrap()));
    assert_eq!(p.filter_out.as_deref(), Some("office"));
    assert_eq!(p.flags(), "IT");

    // Without the plugins the same reply throttles nothing.
    let mut w = World::new(config(acl), 16);
    let lac = w.add_lac(None);
    w.radius.add("bob", "pw", vec![avpair("throttle=yes")]);
    w.login(lac, "bob", "pw").expect("bob up");
    assert!(!policy(&mut w, "bob").is_throttled());
}

#[test]
fn throttle_commands_default_to_throttle_speed_and_the_dump_says_qos_2() {
    let mut w = World::new(config("set throttle_speed 256\n"), 16);
    let lac = w.add_lac(None);
    w.radius.add("carol", "pw", vec![]);
    w.login(lac, "carol", "pw").expect("up");
    let r = w.lns.handle_command(
        w.now,
        Command::Throttle {
            target: Target::User("carol".into()),
            rates: lns_core::Rates::default(),
        },
    );
    assert!(matches!(r, Reply::Policy { .. }), "{r:?}");
    let p = policy(&mut w, "carol");
    assert_eq!((p.throttle_in, p.throttle_out), (Some(256), Some(256)));
    let r = w.lns.handle_command(
        w.now,
        Command::Unthrottle {
            target: Target::User("nobody".into()),
        },
    );
    assert!(r.is_error());
}

#[test]
fn the_garden_plugin_takes_a_rejected_user_in_without_accounting() {
    let mut w = World::new(config("load plugin \"garden\"\n"), 16);
    assert!(
        w.os_actions.is_empty(),
        "the set-up action waits in the endpoint until polled"
    );
    let lac = w.add_lac(None);
    w.radius.add("dave", "right", vec![]);
    let call = w
        .login(lac, "dave", "wrong")
        .expect("gardened, not refused");
    let address = w.address(lac, call).unwrap();
    assert!(policy(&mut w, "dave").garden);
    assert_eq!(w.os_actions.first(), Some(&Action::GardenSetup));
    assert!(w.os_actions.contains(&Action::GardenAdd { address }));
    assert!(
        w.radius.records("dave").is_empty(),
        "a gardened session sends no accounting"
    );
    // Ungarden: out of the chain, accounting starts.
    let id = w.sessions()[0].id;
    let r = w.lns.handle_command(
        w.now,
        Command::Ungarden {
            target: Target::Session(id),
            user: Some("dave-paid".into()),
        },
    );
    assert!(
        matches!(r, Reply::Policy { ref user, .. } if user == "dave-paid"),
        "{r:?}"
    );
    w.settle();
    assert!(w.os_actions.contains(&Action::GardenRemove { address }));
    assert!(w
        .radius
        .records("dave-paid")
        .iter()
        .any(|(s, _)| *s == status::START));
    // Without the plugin the same wrong password is refused.
    let mut w = World::new(config(""), 16);
    let lac = w.add_lac(None);
    w.radius.add("dave", "right", vec![]);
    assert!(w.login(lac, "dave", "wrong").is_none());
}

#[test]
fn the_hook_runs_on_auth_up_and_down_with_the_session_in_its_environment() {
    let mut w = World::new(config("set hook_script /usr/local/sbin/hook\n"), 16);
    let lac = w.add_lac(None);
    w.radius.add("erin", "pw", vec![]);
    let call = w.login(lac, "erin", "pw").expect("up");
    let address = w.address(lac, call).unwrap().to_string();
    let id = w.sessions()[0].id;
    w.lns.handle_command(
        w.now,
        Command::KillSession {
            target: Target::Session(id),
            reason: None,
        },
    );
    w.settle();
    let hooks: Vec<(HookEvent, Vec<(String, String)>)> = w
        .os_actions
        .iter()
        .filter_map(|a| match a {
            Action::RunHook { event, env } => Some((*event, env.clone())),
            _ => None,
        })
        .collect();
    let events: Vec<HookEvent> = hooks.iter().map(|h| h.0).collect();
    assert_eq!(events, [HookEvent::Auth, HookEvent::Up, HookEvent::Down]);
    let get = |env: &[(String, String)], k: &str| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    assert_eq!(get(&hooks[0].1, "L2TPNS_AUTH").as_deref(), Some("accept"));
    assert_eq!(get(&hooks[1].1, "L2TPNS_USER").as_deref(), Some("erin"));
    assert_eq!(get(&hooks[1].1, "L2TPNS_IP"), Some(address));
    assert_eq!(
        get(&hooks[2].1, "L2TPNS_TERMINATE_CAUSE").as_deref(),
        Some("Admin-Reset")
    );
    assert!(get(&hooks[2].1, "L2TPNS_OCTETS_IN").is_some());
}

#[test]
fn a_throttled_session_stays_throttled_across_a_restart() {
    let mut w = World::new(config("set save_state yes\n"), 16);
    let lac = w.add_lac(None);
    w.radius.add("fred", "pw", vec![]);
    w.login(lac, "fred", "pw").expect("up");
    w.lns.handle_command(
        w.now,
        Command::Throttle {
            target: Target::User("fred".into()),
            rates: lns_core::Rates {
                inbound: None,
                outbound: Some(1000),
            },
        },
    );
    assert_eq!(w.restart(std::time::Duration::from_secs(2)), 1);
    let p = policy(&mut w, "fred");
    assert_eq!((p.throttle_in, p.throttle_out), (None, Some(1000)));
}
