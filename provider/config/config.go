// Package config is the sidecar's TOML configuration: `computed provider init` writes a
// commented default, `computed provider start` reads it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole sidecar configuration.
type Config struct {
	Chain     Chain             `toml:"chain"`
	Provider  Provider          `toml:"provider"`
	GPU       GPU               `toml:"gpu"`
	Pricing   Pricing           `toml:"pricing"`
	Attest    Attest            `toml:"attestation"`
	Executors Executors         `toml:"executors"`
	Listen    Listen            `toml:"listen"`
	Receipts  Receipts          `toml:"receipts"`
	DataDir   string            `toml:"data_dir"`
	Extra     map[string]string `toml:"extra,omitempty"`
}

// Chain is how to reach the node and sign.
type Chain struct {
	RPC            string `toml:"rpc"`
	GRPC           string `toml:"grpc"`
	ChainID        string `toml:"chain_id"`
	KeyName        string `toml:"key_name"`
	KeyringBackend string `toml:"keyring_backend"`
	KeyringDir     string `toml:"keyring_dir"`
	Fees           string `toml:"fees"`
	Gas            uint64 `toml:"gas"`
	FeeGranter     string `toml:"fee_granter"`
}

// Provider is the operator identity and standing.
type Provider struct {
	// Operator is the provider address the sidecar acts for through an authz grant; empty when
	// the sidecar's key is the operator key itself.
	Operator string `toml:"operator"`
	Metro    string `toml:"metro"`
	Endpoint string `toml:"endpoint"`
	// Bond is kept bonded in x/sla (topped up at start).
	Bond string `toml:"bond"`
	// WithdrawEveryBlocks is how often earnings are withdrawn from escrow.
	WithdrawEveryBlocks int64 `toml:"withdraw_every_blocks"`
}

// GPU selects the inventory backend.
type GPU struct {
	// Backend is "nvml" (real GPUs through go-nvml) or "mock" (go-nvml's mock package).
	Backend   string `toml:"backend"`
	MockCount int    `toml:"mock_count"`
}

// Pricing is the bid policy.
type Pricing struct {
	Denom                 string           `toml:"denom"`
	BasePerGPUHour        map[string]int64 `toml:"base_per_gpu_hour"`
	MetroMultiplierBps    int64            `toml:"metro_multiplier_bps"`
	UtilisationScalingBps int64            `toml:"utilisation_scaling_bps"`
	FloorPerBlock         int64            `toml:"floor_per_block"`
	BlockSeconds          int64            `toml:"block_seconds"`
}

// Attest is how evidence is collected.
type Attest struct {
	// Mode is "command" (development issuer) or "nras".
	Mode          string   `toml:"mode"`
	NRASURL       string   `toml:"nras_url"`
	TokenCommand  []string `toml:"token_command"`
	ClaimsCommand []string `toml:"claims_command"`
	RenewBefore   Duration `toml:"renew_before"`
}

// Executors enables the workload drivers.
type Executors struct {
	WASMDir       string              `toml:"wasm_dir"`
	Docker        bool                `toml:"docker"`
	DockerGPUs    bool                `toml:"docker_gpus"`
	DockerNetwork string              `toml:"docker_network"`
	ProcessAllow  map[string][]string `toml:"process_allow"`
	JobTimeout    Duration            `toml:"job_timeout"`
	DefaultMemMiB int64               `toml:"default_memory_mib"`
}

// Listen is where the sidecar serves ingress, receipts, status and metrics.
type Listen struct {
	HTTP string `toml:"http"`
	// AdminFrom are the networks (CIDR) /status and /metrics answer besides this host's
	// (loopback, a unix socket).
	// They tell GPU UUIDs, bids and each lease's backend address, and /status costs chain
	// queries: the buyers the ingress serves are not to read them.
	AdminFrom []string `toml:"admin_from"`
}

// AdminPrefixes parses AdminFrom.
func (l Listen) AdminPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(l.AdminFrom))
	for _, s := range l.AdminFrom {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("listen.admin_from: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Receipts sets the anchoring trigger.
type Receipts struct {
	MaxBatch int      `toml:"max_batch"`
	MaxAge   Duration `toml:"max_age"`
	// JournalSync is how often the leases' ingress journals are synced to disk: what a power
	// cut can lose of the requests served since the last block. 0 syncs never.
	JournalSync Duration `toml:"journal_sync"`
	// MaxRequests caps the requests in one receipt: more before the next block are receipted
	// at once (price zero; the block's receipt carries its price), which bounds the memory they
	// take while blocks do not come. 0 is the default, 65,536.
	MaxRequests int `toml:"max_requests"`
}

// Default is a development configuration: local node, mock 8×H100, dev attestation issuer.
func Default(home string) Config {
	return Config{
		Chain: Chain{
			RPC: "tcp://127.0.0.1:26657", GRPC: "127.0.0.1:9090", ChainID: "computed-local",
			KeyName: "provider", KeyringBackend: "test", KeyringDir: home, Fees: "5000ucmpt", Gas: 500_000,
		},
		Provider: Provider{Metro: "FRA", Endpoint: "http://127.0.0.1:8480", Bond: "1000000uusdc", WithdrawEveryBlocks: 20},
		GPU:      GPU{Backend: "mock", MockCount: 8},
		Pricing: Pricing{
			Denom: "uusdc", BasePerGPUHour: map[string]int64{"H100-SXM-80GB": 2_000_000, "H200-SXM-141GB": 3_000_000},
			MetroMultiplierBps: 10_000, UtilisationScalingBps: 2_000, FloorPerBlock: 1, BlockSeconds: 1,
		},
		Attest: Attest{
			Mode: "command", NRASURL: "https://nras.attestation.nvidia.com/v3/attest/gpu",
			TokenCommand:  []string{"devattest", "nras", "--nonce", "{nonce}", "--gpus", "8"},
			ClaimsCommand: []string{"devattest", "gpus", "--gpus", "8"},
			RenewBefore:   Duration{10 * time.Minute},
		},
		Executors: Executors{WASMDir: filepath.Join(home, "wasm"), DockerNetwork: "computed-leases", JobTimeout: Duration{30 * time.Second}, DefaultMemMiB: 512},
		Listen:    Listen{HTTP: "127.0.0.1:8480"},
		Receipts:  Receipts{MaxBatch: 1000, MaxAge: Duration{5 * time.Second}, JournalSync: Duration{200 * time.Millisecond}, MaxRequests: 1 << 16},
		DataDir:   filepath.Join(home, "provider-data"),
	}
}

// Validate checks what start needs.
func (c Config) Validate() error {
	switch {
	case c.Chain.RPC == "" || c.Chain.ChainID == "" || c.Chain.KeyName == "":
		return errors.New("chain.rpc, chain.chain_id and chain.key_name are required")
	case c.Provider.Metro == "":
		return errors.New("provider.metro is required")
	case c.GPU.Backend != "nvml" && c.GPU.Backend != "mock":
		return fmt.Errorf("gpu.backend must be nvml or mock, got %q", c.GPU.Backend)
	case c.Attest.Mode != "command" && c.Attest.Mode != "nras":
		return fmt.Errorf("attestation.mode must be command or nras, got %q", c.Attest.Mode)
	case c.Pricing.Denom == "" || len(c.Pricing.BasePerGPUHour) == 0:
		return errors.New("pricing.denom and pricing.base_per_gpu_hour are required")
	case c.Listen.HTTP == "" || c.DataDir == "":
		return errors.New("listen.http and data_dir are required")
	case c.Receipts.JournalSync.Duration < 0:
		return fmt.Errorf("receipts.journal_sync must not be negative, got %s", c.Receipts.JournalSync)
	case c.Receipts.MaxRequests < 0:
		return fmt.Errorf("receipts.max_requests must not be negative, got %d", c.Receipts.MaxRequests)
	case c.Executors.DockerGPUs && c.GPU.Backend == "mock":
		return errors.New("executors.docker_gpus needs gpu.backend = nvml: mock GPUs are no devices a container can be given")
	}
	if _, err := c.Listen.AdminPrefixes(); err != nil {
		return err
	}
	return c.Pricing.validate()
}

// Bounds on the pricing policy: the bid engine's arithmetic stays far inside its integers, and
// every price it computes is positive (the chain refuses others).
const (
	maxMultiplierBps = 1_000_000 // 100x
	maxBlockSeconds  = 3600
)

func (p Pricing) validate() error {
	// Sorted, so the error names the same SKU every time.
	skus := make([]string, 0, len(p.BasePerGPUHour))
	for s := range p.BasePerGPUHour {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	for _, s := range skus {
		if v := p.BasePerGPUHour[s]; v <= 0 {
			return fmt.Errorf("pricing.base_per_gpu_hour[%q] must be positive, got %d", s, v)
		}
	}
	switch {
	case p.FloorPerBlock < 0:
		return fmt.Errorf("pricing.floor_per_block must not be negative, got %d", p.FloorPerBlock)
	case p.MetroMultiplierBps < 0 || p.MetroMultiplierBps > maxMultiplierBps:
		return fmt.Errorf("pricing.metro_multiplier_bps must be in 0..%d (0: 10000), got %d", maxMultiplierBps, p.MetroMultiplierBps)
	case p.UtilisationScalingBps < 0 || p.UtilisationScalingBps > maxMultiplierBps:
		return fmt.Errorf("pricing.utilisation_scaling_bps must be in 0..%d, got %d", maxMultiplierBps, p.UtilisationScalingBps)
	case p.BlockSeconds < 0 || p.BlockSeconds > maxBlockSeconds:
		return fmt.Errorf("pricing.block_seconds must be in 0..%d (0: 1), got %d", maxBlockSeconds, p.BlockSeconds)
	}
	return nil
}

// Load reads a config file.
func Load(path string) (Config, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(path, err)
	}
	// Relative directories are the config file's: the sidecar's working directory is not, and a
	// relative module directory was joined to itself on the way to the executor.
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, err
	}
	if len(c.Listen.AdminFrom) == 0 {
		c.Listen.AdminFrom = nil // "admin_from = []": this host only, as when the key is absent
	}
	for _, p := range []*string{&c.DataDir, &c.Executors.WASMDir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return c, c.Validate()
}

// decodeError says where the file is wrong: go-toml's own messages name neither the unknown
// keys nor the line.
func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		keys := make([]string, len(strict.Errors))
		for i, e := range strict.Errors {
			row, _ := e.Position()
			keys[i] = fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row)
		}
		return fmt.Errorf("%s: unknown keys: %s: %w", path, strings.Join(keys, ", "), err)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("%s:%d:%d: %w", path, row, col, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Write writes c as commented TOML; it refuses to overwrite unless force.
func Write(path string, c Config, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s exists (use --force to overwrite)", path)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, c); err != nil {
		return err
	}
	// Round-trip check: the template must produce a file Load accepts.
	var back Config
	if err := toml.Unmarshal(buf.Bytes(), &back); err != nil {
		return fmt.Errorf("config template: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

var tmpl = template.Must(template.New("config").Funcs(template.FuncMap{
	"q": func(s string) string {
		b, _ := toml.Marshal(map[string]string{"v": s})
		return string(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("v = "))))
	},
	"list": func(l []string) string {
		b, _ := toml.Marshal(map[string][]string{"v": l})
		return string(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("v = "))))
	},
}).Parse(`# computed provider sidecar configuration (computed provider init).

# Where the sidecar keeps its crash-safe state (bbolt): receipt sequences, pending batches,
# commit salts and what the chain acknowledged. Back it up with the operator key. It also holds
# the leases' request journals (journal/) and compiled WASM modules (wasm-cache/, safe to delete).
data_dir = {{q .DataDir}}

[chain]
# CometBFT RPC of a node you trust (websocket events and transactions go through it).
rpc = {{q .Chain.RPC}}
grpc = {{q .Chain.GRPC}}
chain_id = {{q .Chain.ChainID}}
# The sidecar's hot key. With provider.operator set, it acts through the authz grant that
# 'computed provider grant' creates (limited to the sidecar's message types).
key_name = {{q .Chain.KeyName}}
keyring_backend = {{q .Chain.KeyringBackend}}
keyring_dir = {{q .Chain.KeyringDir}}
fees = {{q .Chain.Fees}}
gas = {{.Chain.Gas}}
# Optional: an account whose feegrant pays the sidecar's fees.
fee_granter = {{q .Chain.FeeGranter}}

[provider]
# The operator (provider) address; empty when key_name is the operator key itself.
operator = {{q .Provider.Operator}}
metro = {{q .Provider.Metro}}
# Public base URL of this sidecar's ingress (registered on chain).
endpoint = {{q .Provider.Endpoint}}
# Collateral kept bonded in x/sla; orders may require a minimum free bond.
bond = {{q .Provider.Bond}}
withdraw_every_blocks = {{.Provider.WithdrawEveryBlocks}}

[gpu]
# "nvml" reads the real GPUs (needs the NVIDIA driver); "mock" pretends to be mock_count H100s.
backend = {{q .GPU.Backend}}
mock_count = {{.GPU.MockCount}}

[pricing]
denom = {{q .Pricing.Denom}}
# Price per block = base per GPU-hour x GPUs x block_seconds / 3600 x metro multiplier, raised by
# up to utilisation_scaling_bps as GPUs fill up, never below floor_per_block and never above an
# order's ceiling (the sidecar skips such orders).
metro_multiplier_bps = {{.Pricing.MetroMultiplierBps}}
utilisation_scaling_bps = {{.Pricing.UtilisationScalingBps}}
floor_per_block = {{.Pricing.FloorPerBlock}}
block_seconds = {{.Pricing.BlockSeconds}}

[pricing.base_per_gpu_hour]
{{range $k, $v := .Pricing.BasePerGPUHour}}{{q $k}} = {{$v}}
{{end}}
[attestation]
# "nras": NVML confidential-computing reports sent to nras_url for a detached EAT; the keys that
# signed it (with their certificate chains) come from /.well-known/jwks.json on the same host.
# "command": a development issuer; {nonce} is replaced by the chain's hex nonce.
mode = {{q .Attest.Mode}}
nras_url = {{q .Attest.NRASURL}}
token_command = {{list .Attest.TokenCommand}}
claims_command = {{list .Attest.ClaimsCommand}}
# Re-attest when the record has less than this left.
renew_before = {{q .Attest.RenewBefore.String}}

[executors]
# WASM modules (named by their SHA-256 in orders) are looked up here as <sha256>.wasm.
wasm_dir = {{q .Executors.WASMDir}}
# Docker Engine API executor (images pinned by digest; never pulled).
docker = {{.Executors.Docker}}
# The engine has the NVIDIA container toolkit, so a lease's GPUs are given to its container.
# With the nvml backend and this off, the sidecar does not bid on OCI orders (each asks for GPUs
# it could not hand over); with mock GPUs, containers run without devices.
docker_gpus = {{.Executors.DockerGPUs}}
# The network lease containers join. Missing, it is created as a bridge on which containers
# cannot reach one another (one lease cannot reach another's service behind the ingress's back);
# one that exists is used as it is. "bridge" is the engine's default, where they can.
docker_network = {{q .Executors.DockerNetwork}}
job_timeout = {{q .Executors.JobTimeout.String}}
default_memory_mib = {{.Executors.DefaultMemMiB}}

[executors.process_allow]
# Development only: allow-listed commands the process executor may run, name = argv.
{{range $k, $v := .Executors.ProcessAllow}}{{q $k}} = {{list $v}}
{{end}}
[listen]
# One listener: /leases/<id>/... (ingress), /receipts/<lease>/<seq>, /status, /metrics.
# A socket passed by systemd (socket activation) takes its place.
http = {{q .Listen.HTTP}}
# Networks (CIDR) whose clients may read /status and /metrics besides this host's (loopback).
# Add your Prometheus server's; the buyers the ingress serves should not read them.
admin_from = {{list .Listen.AdminFrom}}

[receipts]
# A batch is anchored when max_batch receipts wait or the oldest is max_age old.
max_batch = {{.Receipts.MaxBatch}}
max_age = {{q .Receipts.MaxAge.String}}
# Requests served between two blocks are journaled before their response leaves (a killed
# sidecar loses none); the journal is synced to disk this often, which bounds what a power cut
# can lose. "0s" never syncs.
journal_sync = {{q .Receipts.JournalSync.String}}
# A receipt covers the requests served between two blocks, or max_requests of them when more
# come first (the node or the chain is down): those are receipted at once, priced zero (the
# block's receipt carries the block's price), so what waits for a block stays bounded in memory.
max_requests = {{.Receipts.MaxRequests}}
{{if .Extra}}
[extra]
{{range $k, $v := .Extra}}{{q $k}} = {{q $v}}
{{end}}{{end}}`))

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }
