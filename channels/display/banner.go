package display

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Banner draws a plain PNG of size z: a background, a border and lines of
// text (split on \n), centred. The demo's creatives and the tests' images are made
// with it.
func Banner(z Size, bg, fg color.RGBA, text string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, z.W, z.H))
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	for x := 0; x < z.W; x++ {
		for _, y := range []int{0, 1, z.H - 2, z.H - 1} {
			img.SetRGBA(x, y, fg)
		}
	}
	for y := 0; y < z.H; y++ {
		for _, x := range []int{0, 1, z.W - 2, z.W - 1} {
			img.SetRGBA(x, y, fg)
		}
	}
	face := basicfont.Face7x13
	d := &font.Drawer{Dst: img, Src: &image.Uniform{fg}, Face: face}
	lines := strings.Split(text, "\n")
	top := z.H/2 - 16*len(lines)/2 + 12
	for i, line := range lines {
		w := d.MeasureString(line).Ceil()
		d.Dot = fixed.P(max(4, (z.W-w)/2), top+16*i)
		d.DrawString(line)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory does not fail
	return buf.Bytes()
}
