package ceremony

import (
	"encoding/base32"

	"github.com/keremony/keremony/kel"
)

// Fingerprint renders the first 80 bits of a SAID's (or prefix's) digest as
// four groups of Base32 letters, for members to compare before signing; "?"
// when s is no digest.
func Fingerprint(s string) string {
	m, err := kel.DecodeMatter(s)
	if err != nil || len(m.Raw) < 10 {
		return "?"
	}
	b := base32.StdEncoding.EncodeToString(m.Raw[:10])
	return b[0:4] + "-" + b[4:8] + "-" + b[8:12] + "-" + b[12:16]
}

// FingerprintWordCount is how many words FingerprintWords returns.
const FingerprintWordCount = 6

// FingerprintWords reads the first 48 bits of a SAID's digest as six words
// of a 256-word list, one per byte, for members to read aloud across a room
// ("otter basket comet ..."); nil when s is no digest. The words are
// distinct, common and at most 8 letters long, and no two share their first
// four letters, so a misheard word is noticed rather than mistaken.
func FingerprintWords(s string) []string {
	m, err := kel.DecodeMatter(s)
	if err != nil || len(m.Raw) < FingerprintWordCount {
		return nil
	}
	out := make([]string, FingerprintWordCount)
	for i, b := range m.Raw[:FingerprintWordCount] {
		out[i] = fingerprintWords[b]
	}
	return out
}

// fingerprintWords is the 256-word list, in alphabetical order.
var fingerprintWords = [256]string{
	"acorn", "actor", "agent", "alarm", "album", "alley", "amber", "anchor",
	"angle", "ankle", "apple", "apron", "arena", "arrow", "atlas", "attic",
	"autumn", "award", "bacon", "badge", "bagel", "baker", "bamboo", "banjo",
	"barrel", "basin", "basket", "beach", "beard", "beaver", "bell", "bench",
	"berry", "bison", "blade", "blanket", "blossom", "bonnet", "border", "bottle",
	"boulder", "bracket", "branch", "bread", "brick", "bridge", "broom", "bubble",
	"bucket", "buffalo", "bundle", "butter", "cabin", "cable", "cactus", "camel",
	"candle", "canoe", "canvas", "canyon", "carbon", "carpet", "carrot", "castle",
	"cattle", "cellar", "cement", "chalk", "channel", "cherry", "chess", "chimney",
	"circus", "clock", "cloud", "clover", "cobalt", "coffee", "comet", "copper",
	"coral", "cotton", "cradle", "crane", "crayon", "cricket", "crystal", "curtain",
	"cushion", "dancer", "delta", "desert", "diamond", "doctor", "dolphin", "donkey",
	"dragon", "drawer", "dream", "drum", "eagle", "echo", "elbow", "ember",
	"engine", "fabric", "falcon", "feather", "fence", "fiddle", "finger", "flag",
	"flute", "forest", "fossil", "fountain", "fox", "frost", "garden", "garlic",
	"gazelle", "giant", "ginger", "glacier", "globe", "glove", "goblet", "granite",
	"grape", "gravel", "guitar", "hammer", "harbor", "harvest", "hazel", "helmet",
	"heron", "hill", "honey", "horizon", "hornet", "hotel", "igloo", "island",
	"ivory", "jacket", "jaguar", "jasmine", "jelly", "jungle", "kayak", "kettle",
	"kitten", "ladder", "lagoon", "lantern", "laser", "lemon", "lentil", "lettuce",
	"lily", "lizard", "lobster", "magnet", "mango", "maple", "marble", "meadow",
	"melon", "mirror", "mitten", "monkey", "mosaic", "motor", "muffin", "museum",
	"needle", "nickel", "noodle", "oak", "oasis", "ocean", "olive", "onion",
	"orange", "orchid", "otter", "oyster", "paddle", "palace", "panda", "paper",
	"parrot", "peach", "pebble", "pencil", "pepper", "piano", "pillow", "pilot",
	"planet", "plum", "pocket", "pony", "potato", "puzzle", "quail", "quarry",
	"rabbit", "radar", "radio", "raven", "ribbon", "river", "robin", "rocket",
	"saddle", "salmon", "sandal", "satin", "scarf", "shadow", "shovel", "silver",
	"sketch", "sparrow", "spider", "spoon", "squirrel", "statue", "summit", "sunset",
	"swan", "table", "tiger", "timber", "tomato", "tower", "tractor", "trumpet",
	"tulip", "tunnel", "turtle", "umbrella", "valley", "velvet", "violin", "wagon",
	"walnut", "walrus", "whale", "window", "winter", "wizard", "yogurt", "zebra",
}
