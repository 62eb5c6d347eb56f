package verify

// Check applies the policy to one GPU result that VerifyNRAS already authenticated. It lets a
// caller verify all signatures once (with a policy that only fixes the GPU count) and then hold
// each GPU to the policy of the SKU it is claimed as, when one piece of evidence may cover GPUs
// of different SKUs. The checks and their order are those VerifyNRAS applies.
func (p GPUPolicy) Check(g GPUResult) error {
	return p.checkGPU(&g)
}
