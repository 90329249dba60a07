//! Servers a soak starts for itself: a `redis-server` and a PostgreSQL
//! cluster of Debian's packages, on loopback, on free ports, in a
//! throwaway directory. Only these are ever killed or stopped by
//! `--faults`; both are stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, StagingError};

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| StagingError::io("finding a free port on 127.0.0.1", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| StagingError::io("finding a free port on 127.0.0.1", e))
}

fn wait_for_port(port: u16, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(StagingError::Config(format!(
        "{what} did not listen on 127.0.0.1:{port} within 15 s"
    )))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| {
        StagingError::io(
            format!("{what} (is Debian's package installed? scripts/ci-services installs it)"),
            e,
        )
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(StagingError::Config(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A `redis-server` child process: no persistence, loopback only.
#[derive(Debug)]
pub struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts one on a free port and waits until it accepts connections.
    pub fn start() -> Result<OwnRedis> {
        let mut r = OwnRedis {
            port: free_port()?,
            child: None,
        };
        r.restart()?;
        Ok(r)
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills it (SIGKILL: a crash, not a shutdown) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing was persisted).
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                StagingError::io("starting redis-server (apt-get install redis-server)", e)
            })?;
        self.child = Some(child);
        wait_for_port(self.port, "redis-server")
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PostgreSQL cluster in a temporary directory, run by the `postgres`
/// user when this process is root (PostgreSQL refuses to run as root).
#[derive(Debug)]
pub struct OwnPostgres {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    running: bool,
}

fn as_postgres_user(program: &Path) -> Command {
    // NOTE: geteuid without libc: root's /proc/self/status says `Uid: 0`.
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl OwnPostgres {
    /// `initdb` (trust authentication on loopback, superuser `heaplab`)
    /// and start on a free port.
    pub fn start() -> Result<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| StagingError::io("finding PostgreSQL (apt-get install postgresql)", e))?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .ok_or_else(|| StagingError::Config("no initdb under /usr/lib/postgresql".into()))?;
        let dir = std::env::temp_dir().join(format!(
            "heaplab-pg-{}-{}",
            std::process::id(),
            free_port()?
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| StagingError::io("creating the cluster directory", e))?;
        // NOTE: as root, the cluster belongs to the postgres user; as
        // anyone else chown fails and the directory is already theirs.
        let _ = run(
            Command::new("chown").arg("postgres:postgres").arg(&dir),
            "chown of the cluster directory",
        );
        run(
            as_postgres_user(&bin.join("initdb"))
                .args(["-A", "trust", "-U", "heaplab", "--no-sync", "-D"])
                .arg(dir.join("data")),
            "initdb",
        )?;
        let mut pg = OwnPostgres {
            port: free_port()?,
            dir,
            bin,
            running: false,
        };
        pg.start_again()?;
        Ok(pg)
    }

    /// `postgres://heaplab@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://heaplab@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn start_again(&mut self) -> Result<()> {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        run(
            as_postgres_user(&self.bin.join("pg_ctl"))
                .args(["-w", "-l"])
                .arg(self.dir.join("log"))
                .args(["-o", &opts, "-D"])
                .arg(self.dir.join("data"))
                .arg("start"),
            "pg_ctl start",
        )?;
        self.running = true;
        wait_for_port(self.port, "postgres")
    }

    /// `pg_ctl stop -m fast`: connections are closed, queries refused.
    pub fn stop(&mut self) -> Result<()> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        run(
            as_postgres_user(&self.bin.join("pg_ctl"))
                .args(["-w", "-m", "fast", "-D"])
                .arg(self.dir.join("data"))
                .arg("stop"),
            "pg_ctl stop",
        )
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
