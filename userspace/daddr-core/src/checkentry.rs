//! Which rules may use the DADDR target: the `table` module parameter and the `checkentry`
//! policy. Compiled into the kernel module as is (`#[path]` module), so `core` only.

/// The tables the target may be used in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tables {
    /// `raw`: before conntrack, so conntrack records the VIP (`table=raw`, the original's
    /// default since 0.9).
    pub raw: bool,
    /// `mangle`: the operators' usual `-t mangle -A INPUT|PREROUTING` and the default.
    pub mangle: bool,
}

impl Tables {
    /// `table=raw`.
    pub const RAW: Tables = Tables {
        raw: true,
        mangle: false,
    };
    /// `table=mangle`: the default.
    pub const MANGLE: Tables = Tables {
        raw: false,
        mangle: true,
    };
    /// `table=raw,mangle` (or `mangle,raw`): our extension, both tables at once.
    pub const BOTH: Tables = Tables {
        raw: true,
        mangle: true,
    };

    /// Whether the table named `name` (as netfilter passes it, without NUL) is allowed.
    pub fn allows(self, name: &[u8]) -> bool {
        match name {
            b"raw" => self.raw,
            b"mangle" => self.mangle,
            _ => false,
        }
    }
}

/// The default value of the `table` parameter, as shown in
/// `/sys/module/xt_DADDR/parameters/table`. One table name, as the original module exposes
/// there: its host tool (`dsrctl` of yahoo/l3dsr) reads the file and runs
/// `iptables -t <value> -L -n`, so a list would break it. `mangle` is the table the operators'
/// usual `-t mangle ... -j DADDR` and dsrctl's own default use.
pub const DEFAULT_TABLE_PARAM: &str = "mangle";

/// Parse the `table` module parameter: `raw`, `mangle`, or both separated by a comma (in
/// either order). Surrounding whitespace (a trailing newline from sysfs-style input) is
/// ignored. `None` for anything else, which refuses to load the module.
pub fn parse_table_param(value: &[u8]) -> Option<Tables> {
    let value = value.trim_ascii();
    let mut tables = Tables {
        raw: false,
        mangle: false,
    };
    for name in value.split(|&b| b == b',') {
        match name.trim_ascii() {
            b"raw" if !tables.raw => tables.raw = true,
            b"mangle" if !tables.mangle => tables.mangle = true,
            _ => return None,
        }
    }
    Some(tables)
}

/// Address family of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `iptables`: the first 4 bytes of the target data.
    Ipv4,
    /// `ip6tables`: all 16 bytes.
    Ipv6,
}

/// Why a rule is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The rule is in a table the `table` parameter does not allow.
    Table,
    /// `0.0.0.0` / `::`: would send packets nowhere.
    UnspecifiedAddress,
    /// `224.0.0.0/4` / `ff00::/8`: a DSR VIP is unicast.
    MulticastAddress,
}

/// `checkentry`: may a rule in `table` rewrite the destination to `addr`
/// (`union nf_inet_addr` bytes)?
pub fn check(
    allowed: Tables,
    table: &[u8],
    family: Family,
    addr: &[u8; 16],
) -> Result<(), Refusal> {
    if !allowed.allows(table) {
        return Err(Refusal::Table);
    }
    // Constant indices into the array: no panicking path in the kernel object.
    let v4 = [addr[0], addr[1], addr[2], addr[3]];
    let bytes: &[u8] = match family {
        Family::Ipv4 => &v4,
        Family::Ipv6 => addr,
    };
    if bytes.iter().all(|&b| b == 0) {
        return Err(Refusal::UnspecifiedAddress);
    }
    let multicast = match family {
        Family::Ipv4 => addr[0] & 0xf0 == 0xe0,
        Family::Ipv6 => addr[0] == 0xff,
    };
    if multicast {
        return Err(Refusal::MulticastAddress);
    }
    Ok(())
}
