//! Reading the process table, per platform: a process's parent, start time
//! (so a reused pid never matches), name and arguments. Linux reads
//! `/proc/PID/stat` and `/proc/PID/cmdline`; macOS asks `proc_pidinfo` and
//! `sysctl(KERN_PROCARGS2)`.

use super::ProcInfo;

/// A process as the table shows it now, or `None` when it is gone.
#[cfg(target_os = "linux")]
pub fn info(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: it sits between the
    // first '(' and the last ')', and the fields follow.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After "pid (comm)": state, ppid (field 4), ... starttime (field 22).
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    let argv = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    Some(ProcInfo {
        pid,
        start,
        ppid,
        name,
        argv,
    })
}

#[cfg(target_os = "macos")]
pub fn info(pid: u32) -> Option<ProcInfo> {
    // SAFETY: proc_pidinfo writes at most `size` bytes into `bsd`, a plain C
    // struct for which all-zero bytes are a valid value.
    let bsd = unsafe {
        let mut bsd: libc::proc_bsdinfo = std::mem::zeroed();
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        let n = libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTBSDINFO,
            0,
            &mut bsd as *mut libc::proc_bsdinfo as *mut libc::c_void,
            size,
        );
        if n != size {
            return None;
        }
        bsd
    };
    let comm: Vec<u8> = bsd
        .pbi_comm
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    Some(ProcInfo {
        pid,
        start: bsd.pbi_start_tvsec * 1_000_000 + bsd.pbi_start_tvusec,
        ppid: bsd.pbi_ppid,
        name: String::from_utf8_lossy(&comm).into_owned(),
        argv: macos_argv(pid).unwrap_or_default(),
    })
}

/// argv from `KERN_PROCARGS2`: an `int` argc, the executable path, NUL
/// padding, then argc NUL-terminated arguments (then the environment).
#[cfg(target_os = "macos")]
fn macos_argv(pid: u32) -> Option<Vec<String>> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid as libc::c_int];
    let mut size: libc::size_t = 0;
    // SAFETY: a null buffer asks sysctl for the size only.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            std::ptr::null_mut(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 || size < std::mem::size_of::<libc::c_int>() {
        return None;
    }
    let mut buf = vec![0u8; size];
    // SAFETY: `buf` has room for `size` bytes, which sysctl updates to what
    // it wrote.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return None;
    }
    buf.truncate(size);
    let (count, rest) = buf.split_at(std::mem::size_of::<libc::c_int>());
    let argc = libc::c_int::from_ne_bytes(count.try_into().ok()?).max(0) as usize;
    // Skip the executable path and the NULs after it.
    let path_end = rest.iter().position(|b| *b == 0)?;
    let args = &rest[path_end..];
    let start = args.iter().position(|b| *b != 0)?;
    Some(
        args[start..]
            .split(|b| *b == 0)
            .take(argc)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn info(_pid: u32) -> Option<ProcInfo> {
    // No process table we know how to read: no anchors, only agent ids,
    // --session and COORD_SESSION.
    None
}

/// Linux's per-boot id; elsewhere start times are absolute and need none.
pub fn boot_id() -> Option<String> {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
    } else {
        None
    }
}
