"""Generator fine-tuning (SFT and DPO with TRL + PEFT LoRA) on a team's own labels."""
