package display

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Banner draws a plain PNG of size z: a background, a border and a line
// of text, centred. The demo's creatives and the tests' images are made
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
	w := d.MeasureString(text).Ceil()
	d.Dot = fixed.P(max(4, (z.W-w)/2), z.H/2+5)
	d.DrawString(text)
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory does not fail
	return buf.Bytes()
}
