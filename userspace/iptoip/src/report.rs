//! The `<verbose>` report on stdout: the configuration summary, then one line per mapping, in
//! the spirit of the original's "IPVS VE MAP" lines.

use crate::apply::Settings;
use crate::config::Config;
use crate::desired::{IfaceAddrs, Mapping};

pub fn print(
    config: &Config,
    settings: &Settings<'_>,
    iface: Option<&IfaceAddrs>,
    maps: &[Mapping],
) {
    print!("{}", render(config, settings, iface, maps));
}

pub fn render(
    config: &Config,
    settings: &Settings<'_>,
    iface: Option<&IfaceAddrs>,
    maps: &[Mapping],
) -> String {
    let mut out = String::new();
    out.push_str("iptoip configuration\n");
    out.push_str(&format!(
        "  config file:    {}\n",
        settings.config_path.display()
    ));
    match (&config.iface, iface) {
        (Some(name), Some(a)) => out.push_str(&format!("  interface:      {name} ({a})\n")),
        (Some(name), None) => out.push_str(&format!("  interface:      {name}\n")),
        (None, _) => out.push_str("  interface:      none (every <conf> has an <origin>)\n"),
    }
    let policy = match config.rfc1918.level() {
        0 => "0 (private addresses allowed)",
        1 => "1 (private interface address refused)",
        _ => "2 (private interface address and origin refused)",
    };
    out.push_str(&format!("  rfc1918 policy: {policy}\n"));
    let logging = if config.syslog {
        "syslog".to_string()
    } else if let Some(f) = &config.logfile {
        f.display().to_string()
    } else {
        "stderr".to_string()
    };
    out.push_str(&format!("  logging:        {logging}\n"));
    out.push_str(&format!(
        "  state file:     {}\n",
        settings.state_path.display()
    ));
    out.push_str(&format!("  confs:          {}\n", config.confs.len()));
    for m in maps {
        out.push_str(&format!(
            "IPVS VE MAP Port:{} Proto:{} {} to {} Sched:{} Weight:{} via {} (conf line {})\n",
            m.service.port,
            m.service.protocol.name().to_uppercase(),
            m.service.addr,
            m.dest.addr,
            m.scheduler,
            m.spec.weight,
            m.spec.forward.name(),
            m.line
        ));
    }
    out
}
