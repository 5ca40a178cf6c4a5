//! The parent's end of a child's stdout or stderr pipe (`stdio: 'pipe'`), read without blocking
//! on the JS thread, like the channel's socket.
//!
//! What the child wrote reaches JS before its exit, by construction: the exit report reads each
//! pipe for what it holds at that moment (`drain`), which is everything the child wrote, since a
//! process that has exited writes nothing more and a write to a pipe is in the pipe's buffer once
//! it returns. Output that processes started by the child write after it exited (they inherited
//! the pipe) is not waited for: the pipe is closed with the exit, as the channel is.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};

/// Which of the child's output pipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputStream {
  Stdout,
  Stderr,
}

/// Bytes read per call, at most, when the read is not a drain.
const CHUNK: usize = 64 * 1024;

pub struct OutputPipe {
  pub stream: OutputStream,
  file: File,
  ended: bool,
}

impl OutputPipe {
  /// Takes the parent's end of a pipe and makes it non-blocking.
  pub fn new(stream: OutputStream, fd: OwnedFd) -> io::Result<OutputPipe> {
    let file = File::from(fd);
    set_nonblocking(&file)?;
    Ok(OutputPipe {
      stream,
      file,
      ended: false,
    })
  }

  pub fn fd(&self) -> i32 {
    self.file.as_raw_fd()
  }

  /// The child's end is closed (end-of-file or an error): nothing more will come.
  pub fn is_ended(&self) -> bool {
    self.ended
  }

  /// Reads what is available now, up to `budget` bytes; empty when nothing was there.
  pub fn read_available(&mut self, budget: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while !self.ended && bytes.len() < budget {
      let start = bytes.len();
      let want = CHUNK.min(budget - start);
      bytes.resize(start + want, 0);
      match self.file.read(&mut bytes[start..]) {
        Ok(0) => {
          bytes.truncate(start);
          self.ended = true;
        }
        Ok(n) => {
          bytes.truncate(start + n);
          if n < want {
            // The pipe is empty for now: stop before a read that would return EAGAIN.
            break;
          }
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => bytes.truncate(start),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
          bytes.truncate(start);
          break;
        }
        Err(_) => {
          bytes.truncate(start);
          self.ended = true;
        }
      }
    }
    bytes
  }

  /// After the child exited: everything the pipe holds now (what the child wrote), without
  /// waiting for end-of-file, which a grandchild holding the pipe could delay forever.
  pub fn drain(&mut self) -> Vec<u8> {
    let mut buffered: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through a valid pointer; the fd is ours and open.
    if unsafe { libc::ioctl(self.fd(), libc::FIONREAD, &mut buffered) } == -1 {
      // Unknown: read what comes until the pipe is empty.
      return self.read_available(usize::MAX);
    }
    let mut bytes = Vec::new();
    let mut left = buffered.max(0) as usize;
    while left > 0 && !self.ended {
      let chunk = self.read_available(left);
      if chunk.is_empty() {
        break;
      }
      left -= chunk.len().min(left);
      bytes.extend_from_slice(&chunk);
    }
    bytes
  }
}

fn set_nonblocking(file: &File) -> io::Result<()> {
  let fd = file.as_raw_fd();
  // SAFETY: fcntl on a descriptor we own, with plain integer arguments.
  unsafe {
    let flags = libc::fcntl(fd, libc::F_GETFL);
    if flags == -1 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == -1 {
      return Err(io::Error::last_os_error());
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::process::{spawn_child, ChildProcess, SpawnRequest, StdioMode};
  use std::os::unix::net::UnixStream;

  fn pipes(script: &str) -> (ChildProcess, OutputPipe, OutputPipe) {
    let (_parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), script.to_string()];
    let mut request = SpawnRequest::new("sh", &args, child.into());
    request.stdio = StdioMode::Pipe;
    let spawned = spawn_child(request).unwrap();
    let out = OutputPipe::new(OutputStream::Stdout, spawned.stdout.unwrap()).unwrap();
    let err = OutputPipe::new(OutputStream::Stderr, spawned.stderr.unwrap()).unwrap();
    (ChildProcess::new(spawned.pid), out, err)
  }

  #[test]
  fn drain_after_exit_gets_everything_the_child_wrote() {
    let (child, mut out, mut err) = pipes("printf 'one\\ntwo\\n'; printf oops >&2");
    child.wait();
    assert_eq!(out.drain(), b"one\ntwo\n");
    assert_eq!(err.drain(), b"oops");
    assert!(out.read_available(CHUNK).is_empty());
    assert!(out.is_ended());
  }

  #[test]
  fn drain_does_not_wait_for_a_grandchild_holding_the_pipe() {
    let (child, mut out, _err) = pipes("printf done; sleep 3 & exit 0");
    child.wait();
    assert_eq!(out.drain(), b"done");
    assert!(!out.is_ended());
  }

  #[test]
  fn reads_more_than_a_pipe_holds_in_order() {
    // 1 MiB through a 64 KiB pipe: the child blocks until the parent reads.
    let (child, mut out, _err) = pipes("head -c 1048576 /dev/zero | tr '\\0' 'x'");
    let mut total = Vec::new();
    while !out.is_ended() {
      let mut pfd = libc::pollfd {
        fd: out.fd(),
        events: libc::POLLIN,
        revents: 0,
      };
      // SAFETY: one valid pollfd.
      unsafe { libc::poll(&mut pfd, 1, 1000) };
      total.extend(out.read_available(256 * 1024));
    }
    child.wait();
    assert_eq!(total.len(), 1 << 20);
    assert!(total.iter().all(|b| *b == b'x'));
  }
}
