//! The Ray driver (`tools/ray_sweep.py`) on a real local Ray cluster: a head node started with
//! `ray start --head` on loopback, the sweep's shards run as Ray tasks by the real binary and
//! plugin `.so` files, merged by `backtest merge`: the table is byte-identical to one local run.
//! Ray comes from PyPI (`tests/setup.sh` installs it).

use std::path::Path;
use std::process::Command;
use strategy_host_e2e::{data, host_binary, host_ok, scratch_dir};

/// The `ray` command, as a module of the Python that has Ray (its console script may not be on
/// PATH after a user install).
fn ray() -> Command {
    let mut c = Command::new("python3");
    c.args(["-m", "ray.scripts.scripts"]);
    c
}

/// Stops the Ray cluster it started, even when the test fails.
struct Cluster {
    temp: std::path::PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = ray().args(["stop", "--force"]).output();
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_sweep_sharded_over_a_ray_cluster_is_the_table_of_one_run() {
    let has_ray = Command::new("python3")
        .args(["-c", "import ray; print(ray.__version__)"])
        .output()
        .expect("python3");
    assert!(
        has_ray.status.success(),
        "Ray is not installed: run `bash tests/setup.sh` (it installs tests/python/requirements.txt): {}",
        String::from_utf8_lossy(&has_ray.stderr)
    );
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "ray");
    let (rec, config, sweep) = data::sweep_fixture(
        &dir,
        120,
        "[[sweep]]\nstrategy = \"dislocation\"\ngrid = { threshold_bps = [30, 60], cooldown_ms = [1000, 5000] }\n\n[[sweep]]\nstrategy = \"timestop\"\nlist = [{ max_holding_ms = 20000 }, { max_holding_ms = 1500 }]\n",
    );
    let local_csv = dir.join("local.csv");
    host_ok(&data::sweep_args(
        &config,
        &rec,
        &sweep,
        &["--threads", "1", "--sweep-csv", local_csv.to_str().unwrap()],
    ));

    // A head node on loopback (its socket paths must be short: a temp dir under /tmp).
    let port = free_port();
    let temp = std::env::temp_dir().join(format!("ray-{}", std::process::id()));
    let _ = ray().args(["stop", "--force"]).output();
    let cluster = Cluster { temp };
    let started = ray()
        .args([
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            &format!("--port={port}"),
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--object-store-memory=100000000",
        ])
        .arg(format!("--temp-dir={}", cluster.temp.display()))
        .output()
        .expect("ray start");
    assert!(
        started.status.success(),
        "ray start: {}{}",
        String::from_utf8_lossy(&started.stdout),
        String::from_utf8_lossy(&started.stderr)
    );

    let out_dir = dir.join("ray-out");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/ray_sweep.py");
    let run = Command::new("python3")
        .arg(&driver)
        .arg(format!("--address=127.0.0.1:{port}"))
        .arg("--host-bin")
        .arg(host_binary())
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&rec)
        .arg("--sweep")
        .arg(&sweep)
        .args(["--shards", "3", "--out"])
        .arg(&out_dir)
        .output()
        .expect("python3 tools/ray_sweep.py");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the Ray driver failed: {stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for i in 0..3 {
        assert!(
            stdout.contains(&format!("shard {i}/3: ")),
            "shard {i} ran as a Ray task: {stdout}"
        );
    }
    assert!(
        stdout.contains("merged 3 shard(s): 8 combinations; 0 failed"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("sweep.csv")).unwrap(),
        std::fs::read_to_string(&local_csv).unwrap(),
        "3 shards on Ray, merged = one local run"
    );
    drop(cluster);
}
