package types

// NVIDIANRASIntermediate004 is the CA certificate that certifies NRAS's token signing keys
// (each key's x5c in https://nras.attestation.nvidia.com/.well-known/jwks.json: leaf
// "NVIDIA Attestation Service GPU GH100", valid about two days, then this). Subject
// "NVIDIA Attestation Service GPU Intermediate 004", issuer "NVIDIA Attestation Service CA 001"
// (not published), valid 2025-12-08 to 2029-12-08, SPKI SHA-256
// fd32837f954e2c45db073105166dfe6985ae0480bb113fba63b091a75affe896. Copied from the JWKS NRAS
// served on 2026-06-29 (../shared/fixtures/attestation/nvidia/nras); default params trust it, so
// production NRAS tokens verify with the signer keys their submission carries, whatever kid NRAS
// signs with that day. Governance adds its successor before it expires.
const NVIDIANRASIntermediate004 = `
-----BEGIN CERTIFICATE-----
MIIDjjCCAxWgAwIBAgIUX+djej7sXIvcZ8Ym8KJF8WsI3UMwCgYIKoZIzj0EAwMw
VjELMAkGA1UEBhMCVVMxGzAZBgNVBAoMEk5WSURJQSBDb3Jwb3JhdGlvbjEqMCgG
A1UEAwwhTlZJRElBIEF0dGVzdGF0aW9uIFNlcnZpY2UgQ0EgMDAxMB4XDTI1MTIw
ODAwMDAwMFoXDTI5MTIwODAwMDAwMFowZDE4MDYGA1UEAwwvTlZJRElBIEF0dGVz
dGF0aW9uIFNlcnZpY2UgR1BVIEludGVybWVkaWF0ZSAwMDQxGzAZBgNVBAoMEk5W
SURJQSBDb3Jwb3JhdGlvbjELMAkGA1UEBhMCVVMwggEiMA0GCSqGSIb3DQEBAQUA
A4IBDwAwggEKAoIBAQDCmOUQzlKU+iKzdXwJZBpjIwkO2ZhrbeevIScmqL6QdkZM
dj9FKxFResOdPoJA0IxMDwYFMy87MIJYV/hRAo9ut6q0OZiZwPFSfxqN+ZcDyFMk
YEnHvMgFaSuYxMiNWm9WcOcOih8FdX0s8qmkHq+NM48l8R7VNhX0HB2IZ2mxp4nH
/dxpFcbpRavaECEvLqbUSvSNAmg+xNCCVsihKPF/rksGZK1wky6E8HcydYxydK2M
P95dc5Ovqq80COxCPgsjgUN/JT9Gr9iNXaof9W2ZKqasCjADRfITS7N9SQsp7Jv6
UudT5tFbFKp7gCKwpjjUgQEUo3JkWTHiBuRrBZWFAgMBAAGjgecwgeQwDwYDVR0T
AQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwSAYDVR0fBEEwPzA9oDugOYY3aHR0
cDovL2NybC5uZGlzLm52aWRpYS5jb20vY3JsLW5yYXMvbnYtbnJhcy1sMS1yb290
LmNybDA3BggrBgEFBQcBAQQrMCkwJwYIKwYBBQUHMAGGG2h0dHA6Ly9vY3NwLm5k
aXMubnZpZGlhLmNvbTAdBgNVHQ4EFgQU+qgA049NpzpcZ2zfUTukavKMrt0wHwYD
VR0jBBgwFoAUvgpv7XnCSKqKNwsm9oU3MWxyBL8wCgYIKoZIzj0EAwMDZwAwZAIw
EaF8qbwlAoAWNm7WNnqdECSs9uQxqQkl1eQLKJIVEC+XsHTL2SGBrbUGlLX89zf/
AjAL0Xav/uW7dMhqSqqE86RiojGbZR5jRNtWAJIw/YH9yBAJ5ktCAqSSfrJ4qjzf
48U=
-----END CERTIFICATE-----
`
