package tui

func newCollectScreen(c *common, id string) screen       { return placeholder{"Collect"} }
func newReviewScreen(c *common, proposalID string) screen { return placeholder{"Review"} }
func newShareScreen(c *common, out Outgoing) screen      { return placeholder{"Share"} }
