//! Postgres restarted in the middle of a census: the worker waits it out, reconnects and
//! finishes with the same result. The test runs its own throwaway cluster (initdb + pg_ctl
//! from the installed PostgreSQL, as scripts/pg.sh does) so restarting it disturbs nobody.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use hubcensus_store::{ConnectOptions, Store};

use crate::{check, finish, hubcensus, import_feeds, start_sim, wait_for};

/// A private Postgres cluster, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    port: u16,
}

/// `cmd` as the cluster's owner: postgres refuses to run as root.
fn as_owner(program: &Path) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Runs a setup command to its end. Its output is not captured: a postmaster started by
/// `pg_ctl` inherits the descriptors and would hold a pipe open forever.
fn run(mut cmd: Command, what: &str) {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed ({status})");
}

impl Cluster {
    fn start() -> Self {
        let bindir = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (Debian's postgresql package) are needed for this test")
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
            .max()
            .expect("no /usr/lib/postgresql/*/bin with initdb and pg_ctl");
        let dir = tempfile::Builder::new().prefix("hubcensus-pg-").tempdir().unwrap();
        run(
            {
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:"]).arg(dir.path());
                c
            },
            "chown",
        );
        let data = dir.path().join("data");
        let mut initdb = as_owner(&bindir.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        run(initdb, "initdb");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Self { dir, bindir, port };
        cluster.ctl(&[
            "-l",
            &cluster.dir.path().join("server.log").display().to_string(),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            &format!(
                "-h 127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off",
                cluster.dir.path().display()
            ),
        ]);
        cluster
    }

    fn ctl(&self, args: &[&str]) {
        let mut cmd = as_owner(&self.bindir.join("pg_ctl"));
        cmd.arg("-D").arg(self.dir.path().join("data")).args(args);
        run(cmd, &format!("pg_ctl {args:?}"));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut cmd = as_owner(&self.bindir.join("pg_ctl"));
        cmd.arg("-D").arg(self.dir.path().join("data")).args(["-m", "immediate", "stop"]);
        let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_survives_a_postgres_restart() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let store = Store::open(&url, &ConnectOptions::default()).await.unwrap();
    let (sim, truth) = start_sim(200, 0.0).await;
    let dir = tempfile::tempdir().unwrap();
    import_feeds(&sim, &url, dir.path()).await;

    let mut census = hubcensus(&sim, &url, &["census"])
        .env("HUBCENSUS_DATABASE__ACQUIRE_TIMEOUT_SECS", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&store, "SELECT count(*) FROM layers WHERE scan_state <> 'pending'", 20, &mut census).await;
    let restart = tokio::task::spawn_blocking(move || {
        let log = cluster.dir.path().join("server.log").display().to_string();
        cluster.ctl(&["-l", &log, "-m", "fast", "-w", "-t", "60", "restart"]);
        cluster
    });
    let cluster = restart.await.unwrap();
    let decided = "SELECT count(*) FROM layers WHERE scan_state <> 'pending'";
    let at_restart = crate::scalar(&store, decided).await;
    let out = finish(census).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the census did not survive the restart: {stderr}");
    let total = crate::scalar(&store, decided).await;
    assert!(
        at_restart < total,
        "the census was still working after the restart ({at_restart} of {total} layers)"
    );
    check::assert_truth(&store, &truth).await;
    drop(cluster);
    sim.shutdown().await;
}
