// Cryptominer families: the binaries and the configuration and launch files they leave in an
// image. hubcensus's starter set (docs/rules.md, "YARA"); findings say `yara:miners:RULE`.
//
// Every rule keys on strings the miners themselves carry (their usage text, their donation
// pool, their config template, their flag names) and needs two of them, or one with the
// executable's header: a miner's name in a README, a changelog or a blog post is not a miner.

rule xmrig_binary
{
    meta:
        description = "XMRig or a fork of it (xmrig-proxy, renamed builds): its donation pool, or its --donate-level flag with the usage text it inherited from cpuminer"
        category = "cryptomining"
        confidence = "high"
    strings:
        $donate_pool = "donate.v2.xmrig.com"
        $donate_flag = "--donate-level"
        $usage_url = "URL of mining server"
        $usage_user = "username:password pair for mining server"
    condition:
        uint32(0) == 0x464c457f and ($donate_pool or ($donate_flag and 1 of ($usage_*)))
}

rule xmr_stak_binary
{
    meta:
        description = "xmr-stak: its name with the pools.txt template it writes on first start"
        category = "cryptomining"
        confidence = "high"
    strings:
        $name = "xmr-stak"
        $pool_address = "\"pool_address\""
        $wallet_address = "\"wallet_address\""
        $pool_weight = "\"pool_weight\""
    condition:
        uint32(0) == 0x464c457f and $name and 2 of ($pool_address, $wallet_address, $pool_weight)
}

rule xmr_stak_pools_config
{
    meta:
        description = "An xmr-stak pools.txt: a pool list with its pool, wallet and weight keys"
        category = "cryptomining"
        confidence = "medium"
    strings:
        $pool_list = "\"pool_list\""
        $pool_address = "\"pool_address\""
        $wallet_address = "\"wallet_address\""
        $pool_weight = "\"pool_weight\""
    condition:
        uint32(0) != 0x464c457f and all of them
}

rule cpuminer_binary
{
    meta:
        description = "cpuminer and cpuminer-multi (pooler's, tpruvot's, JayDDee's cpuminer-opt): two of its user agent and stratum log strings"
        category = "cryptomining"
        confidence = "high"
    strings:
        $agent = "User-Agent: cpuminer"
        $merkle = "Stratum notify: invalid Merkle branch"
        $target = "hash > target (false positive)"
    condition:
        uint32(0) == 0x464c457f and 2 of them
}

rule srbminer_lolminer
{
    meta:
        description = "SRBMiner-MULTI or lolMiner: the binary (its name with a stratum method) or a script that starts it with a pool and a wallet"
        category = "cryptomining"
        confidence = "high"
    strings:
        $srb = "SRBMiner-MULTI"
        $lol = "lolMiner"
        $subscribe = "mining.subscribe"
        $submit = "mining.submit"
        $stratum = "stratum+tcp://"
        $srb_wallet = "--wallet"
        $srb_pool = "--pool"
        $lol_user = "--user"
    condition:
        (uint32(0) == 0x464c457f and ($srb or $lol) and 1 of ($subscribe, $submit, $stratum))
        or (uint16(0) == 0x2123 and (($srb and $srb_wallet and $srb_pool) or ($lol and $lol_user and $srb_pool)))
}
