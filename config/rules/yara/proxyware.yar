// Proxyware ("proxyjacking"): clients that sell the host's bandwidth to a proxy network for
// the account holder. hubcensus's starter set (docs/rules.md, "YARA"); findings say
// `yara:proxyware:RULE`.
//
// A client's name alone is an article about it; the rule needs the name with the flag or
// variable that binds the client to an account and accepts the network's terms: the binary
// that defines them, or the script or config that passes them.

rule proxyware_client
{
    meta:
        description = "A proxyware client with its account binding: Honeygain's -tou-accept, IPRoyal Pawns' -accept-tos, Traffmonetizer's `start accept --token`, Peer2Profit's P2P_EMAIL, Repocket's RP_EMAIL and RP_API_KEY"
        category = "proxy_avoidance"
        confidence = "high"
    strings:
        $honeygain = "honeygain"
        $honeygain_terms = "tou-accept"
        $pawns = "pawns-cli"
        $pawns_terms = "accept-tos"
        $traffmonetizer = "traffmonetizer"
        $traffmonetizer_start = "accept --token"
        $peer2profit = "P2P_EMAIL"
        $repocket_email = "RP_EMAIL"
        $repocket_key = "RP_API_KEY"
    condition:
        ($honeygain and $honeygain_terms)
        or ($pawns and $pawns_terms)
        or ($traffmonetizer and $traffmonetizer_start)
        or ($peer2profit and uint16(0) == 0x2123)
        or ($repocket_email and $repocket_key)
}
