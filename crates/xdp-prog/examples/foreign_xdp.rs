//! Attaches a copy of our program over netlink and exits, leaving it attached: a stand-in for
//! somebody else's XDP program when trying the EBUSY and `force` paths by hand.
//!
//! usage: foreign_xdp IFNAME [native|generic]   (remove with `ip link set dev IFNAME xdpgeneric off`)

use xdp_prog::attach::attach_netlink;
use xdp_prog::{AttachedMode, LoadedProgram};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(ifname) = args.next() else {
        eprintln!("usage: foreign_xdp IFNAME [native|generic]");
        std::process::exit(2);
    };
    let mode = match args.next().as_deref() {
        Some("native") => AttachedMode::Native,
        _ => AttachedMode::Generic,
    };
    let run = || -> xdp_prog::Result<u32> {
        let ifindex = xdp_prog::kernel::ifindex(&ifname)?;
        let prog = LoadedProgram::load(1, false)?;
        let attachment = attach_netlink(prog.fd(), ifindex, mode)?;
        // Leave it attached after we exit, the way a netlink-attached program outlives its loader.
        std::mem::forget(attachment);
        Ok(prog.id())
    };
    match run() {
        Ok(id) => println!("{id}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
