package tui

func newInceptionWizard(c *common) screen               { return placeholder{"New group"} }
func newRotationWizard(c *common, prefix string) screen { return placeholder{"Rotate"} }
func newAnchorWizard(c *common, prefix string) screen   { return placeholder{"Anchor"} }
