//! Starting `node` with the channel on fd 3 and the parent's stdio.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// The descriptor number the child runtime opens (`new net.Socket({ fd: 3 })`).
pub const CHANNEL_FD: i32 = 3;

pub struct SpawnRequest<'a> {
  pub program: &'a str,
  pub args: &'a [String],
  /// The child's end of the socketpair; placed at fd 3 in the child and closed in the parent
  /// when this request is dropped.
  pub channel: OwnedFd,
}

/// Spawns the child and returns its pid.
///
/// stdin/stdout/stderr: Node marks the parent's fds 0-2 close-on-exec, so `Stdio::inherit()`
/// would hand the child closed descriptors. We pass duplicates instead, which the standard
/// library `dup2`s onto 0-2 in the child (clearing close-on-exec). A parent fd that is closed
/// becomes /dev/null in the child.
pub fn spawn_child(request: SpawnRequest<'_>) -> io::Result<u32> {
  let mut command = Command::new(request.program);
  command
    .args(request.args)
    .stdin(inherited(io::stdin().as_fd().try_clone_to_owned()))
    .stdout(inherited(io::stdout().as_fd().try_clone_to_owned()))
    .stderr(inherited(io::stderr().as_fd().try_clone_to_owned()));

  let channel = request.channel.as_raw_fd();
  #[cfg(target_os = "linux")]
  // SAFETY: getpid has no preconditions.
  let parent_pid = unsafe { libc::getpid() };
  // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
  // calls (fcntl, dup2, prctl, getppid); it allocates nothing (last_os_error reads errno).
  unsafe {
    command.pre_exec(move || {
      if channel == CHANNEL_FD {
        // dup2 onto itself is a no-op that would leave close-on-exec set: clear it instead.
        let flags = libc::fcntl(channel, libc::F_GETFD);
        if flags == -1 || libc::fcntl(channel, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == -1 {
          return Err(io::Error::last_os_error());
        }
      } else if libc::dup2(channel, CHANNEL_FD) == -1 {
        return Err(io::Error::last_os_error());
      }
      #[cfg(target_os = "linux")]
      {
        // If the parent dies without closing the channel cleanly (SIGKILL), the kernel kills the
        // child too. It fires when the *thread* that forked exits: we always spawn on a JS thread,
        // which lives as long as its environment (the process, or a Worker that owns the Proclet).
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
          return Err(io::Error::last_os_error());
        }
        // The parent may have died before prctl took effect; then nobody would signal us.
        if libc::getppid() != parent_pid {
          return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
      }
      Ok(())
    });
  }
  let child = command.spawn()?;
  // The child's end stays open in the parent only until here: the parent must not hold it, or
  // it would never see end-of-file when the child exits.
  drop(request.channel);
  // Reaping is done by `ChildProcess::wait` on the pid; std's handle owns no pipes here.
  Ok(child.id())
}

fn inherited(fd: io::Result<OwnedFd>) -> Stdio {
  fd.map(Stdio::from).unwrap_or_else(|_| Stdio::null())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::process::ChildProcess;
  use std::io::Read;
  use std::os::unix::net::UnixStream;

  #[test]
  fn child_gets_the_channel_on_fd_3() {
    let (mut parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), "echo hello >&3".to_string()];
    let pid = spawn_child(SpawnRequest {
      program: "sh",
      args: &args,
      channel: child.into(),
    })
    .unwrap();
    let mut out = String::new();
    parent.read_to_string(&mut out).unwrap();
    assert_eq!(out, "hello\n");
    assert_eq!(ChildProcess::new(pid).wait().code, Some(0));
  }

  #[test]
  fn parent_sees_eof_when_the_child_exits() {
    let (mut parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), "exit 0".to_string()];
    let pid = spawn_child(SpawnRequest {
      program: "sh",
      args: &args,
      channel: child.into(),
    })
    .unwrap();
    let mut out = Vec::new();
    // Returns only if no copy of the child's end survives in the parent.
    parent.read_to_end(&mut out).unwrap();
    assert!(out.is_empty());
    ChildProcess::new(pid).wait();
  }

  #[test]
  fn missing_program_is_an_error() {
    let (_parent, child) = UnixStream::pair().unwrap();
    let err = spawn_child(SpawnRequest {
      program: "/nonexistent/node",
      args: &[],
      channel: child.into(),
    })
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
  }
}
