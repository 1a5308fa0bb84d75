//! Small feed files in the shape of the real formats.

/// URLhaus `csv_recent`, as abuse.ch formats it (header block, quoted rows), with two bad rows.
pub(crate) const URLHAUS: &str = r#"################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2024-05-14 08:55:11 (UTC)                      #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
# For questions please contact urlhaus [at] abuse.ch           #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"2849501","2024-05-14 08:55:06","http://115.55.237.166:44515/i","online","2024-05-14 08:55:06","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/2849501/","geenensp"
"2849500","2024-05-14 08:54:05","https://raw.githubusercontent.com/bad/repo/main/x.exe","online","2024-05-14 08:54:05","malware_download","exe","https://urlhaus.abuse.ch/url/2849500/","abuse_ch"
"2849499","2024-05-13 22:10:00","http://dl.Evil-CDN.top/bins/sora.x86","offline","","malware_download","elf","https://urlhaus.abuse.ch/url/2849499/","lrz_urlhaus"
"2849498","2024-05-13 21:00:00","not a url","offline","","malware_download","","https://urlhaus.abuse.ch/url/2849498/","x"
"2849497","2024-05-13"
"2849496","2024-05-13 20:00:00","http://miner-drop.com/xmrig","online","","malware_download","CoinMiner","https://urlhaus.abuse.ch/url/2849496/","y"
"#;

pub(crate) const HOSTS: &str = "# Title: test blocklist
127.0.0.1 localhost
::1 ip6-localhost ip6-loopback
0.0.0.0 0.0.0.0
0.0.0.0 evil.com
0.0.0.0 ads.tracker.net # trailing comment
127.0.0.1\ta.b.co.uk  c.b.co.uk
evil-without-ip.com
0.0.0.0 foo.baz
";

pub(crate) const NRD_DATED: &str = "x-new.com,2022-05-30
y-new.com;2022-05-31
z-new.com\t2022-05-29
w-new.com 2022-05-28 00:00:00
v-new.com yesterday
";

pub(crate) const NRD_UNDATED: &str = "# newly registered domains
newdomain.com
other-new.net
";

pub(crate) const DOMAINS: &str = "! a plain list
evil-one.com
*.duckdns.org
Sub.Evil-Two.NET.
203.0.113.9
http://evil-three.com/payload
not a domain at all
evil-four.com # reason
";

pub(crate) const CATEGORY_CSV: &str = "domain,category,date
ngrok.io,proxy-avoidance,2022-01-01
\"duckdns.org\",,
evil.com,Malware
new-site.com,nrd,2022-05-20
newnodate.com,newly-registered
hack-tools.com,hacking
mine-pool.com,cryptomining
bad-shop.com,shopping
";

/// An AdBlock-style list in the shape of the malware/cryptojacking blocklists published in this
/// syntax: header, `!` metadata, domain rules with neutral options, and the rules that are not
/// domain listings (exception, cosmetic, path, regex, narrowing option, wildcard, address).
pub(crate) const ADBLOCK: &str = r"[Adblock Plus 2.0]
! Title: Example malware and cryptojacking blocklist
! Last modified: 27 Nov 2026 06:00 UTC
! Expires: 1 day (update frequency)
||coinhive-proxy.top^
||evil-miner.xyz^$third-party
||Tracker.Bad-Domain.NET^$important,~image
@@||good.bad-domain.net^
example.com##.ad-banner
||malware-drop.com/payloads/*
/banner[0-9]+\.gif/
||evil.com^$domain=news.example
||203.0.113.7^
||not_a_host^
||*.wildcard-host.com^
|https://cdn.evil-cdn.top/x.js
||sub.duckdns.org^|
";

/// A plain CSV exported from a commercial URL-categorisation database: a header row naming the
/// columns (extra ones ignored), vendor category names, several categories in one field, and
/// malformed lines.
pub(crate) const VENDOR_CSV: &str = r#"# Exported from the URL filtering database on 2026-11-27
URL,Risk Score,Categories,First Seen,Notes
ngrok-tunnel.io,85,Proxy Avoidance and Anonymizers,2026-10-01,
"http://dl.evil-cdn.top/x.sh",99,"Malware; Command and Control",2026-11-02T10:00:00Z,"seen in a honeypot, twice"
fresh-reg-domain.com,70,Newly Registered Domain,2026-11-20,
hack-forum.net,60,Hacking|Education,,
myhost.duckdns.org,40,Dynamic DNS Host,,
news-site.com,5,News and Media,,
not a domain,50,Malware,,
oops.com,50,Phishing,27/11/2026,
undated-nrd.com,70,Newly Registered Domain,,
"#;

/// WhoisDS's `domain-names.txt`: one domain per line, no dates (the archive's name dates it).
pub(crate) const WHOISDS_DOMAINS: &str = "fresh-example-1.com
fresh-example-2.net
xn--80ak6aa92e.com
not a domain
shop-fresh.xyz
bad..dots.com
fresh-example-1.com
quick-fresh-4.org
fresh5.online
example-new-6.shop
new7.site
";
