package figures

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"time"

	"github.com/raftsim/raftsim/internal/outfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette gives each election timeout its colour.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

func points(s []Sample) plotter.XYs {
	xy := make(plotter.XYs, len(s))
	for i, p := range s {
		xy[i].X, xy[i].Y = float64(p.Nodes), p.Seconds
	}
	return xy
}

// Plot draws a figure in the paper's style: x = nodes, y = seconds, one
// colour per election timeout, every run a small marker and the mean a
// solid line; the paper's runs as hollow squares and its means dashed.
func Plot(f Figure, curves []Curve, subtitle string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	if f.Number > 0 {
		p.Title.Text = fmt.Sprintf("Figure %d: %s", f.Number, f.Title)
	}
	if subtitle != "" {
		p.Title.Text += "\n" + subtitle
	}
	p.X.Label.Text = "nodes"
	p.Y.Label.Text = "seconds"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	for i, c := range curves {
		col := palette[i%len(palette)]
		label := "raftsim ET " + time.Duration(c.ET).String()
		if c.Label != "" {
			label = c.Label
		}
		et := time.Duration(c.ET).String()
		if len(c.Ours) > 0 {
			runs, err := plotter.NewScatter(points(c.Ours))
			if err != nil {
				return nil, err
			}
			runs.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(1.2), Shape: draw.CircleGlyph{}}
			mean, err := plotter.NewLine(points(Means(c.Ours)))
			if err != nil {
				return nil, err
			}
			mean.Color, mean.Width = col, vg.Points(1.5)
			p.Add(runs, mean)
			p.Legend.Add(label, mean, runs)
		}
		if len(c.Paper) > 0 {
			runs, err := plotter.NewScatter(points(c.Paper))
			if err != nil {
				return nil, err
			}
			runs.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.SquareGlyph{}}
			mean, err := plotter.NewLine(points(Means(c.Paper)))
			if err != nil {
				return nil, err
			}
			mean.Color, mean.Width, mean.Dashes = col, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(runs, mean)
			p.Legend.Add("paper ET "+et, mean, runs)
		}
	}
	return p, nil
}

// Save writes the plot as PNG and SVG next to each other (base + ".png",
// base + ".svg"), inside base's directory, as SaveIn does.
func Save(p *plot.Plot, base string) error {
	d, err := outfile.Open(filepath.Dir(base))
	if err != nil {
		return err
	}
	defer d.Close()
	return SaveIn(d, p, filepath.Base(base))
}

// SaveIn writes the plot as name.png and name.svg inside d: each to a
// temporary file renamed into place, replacing only an existing PNG or
// SVG.
func SaveIn(d *outfile.Dir, p *plot.Plot, name string) error {
	for _, f := range []struct {
		format string
		kind   outfile.Kind
	}{{"png", outfile.PNG}, {"svg", outfile.SVG}} {
		wt, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, f.format)
		if err != nil {
			return fmt.Errorf("saving %s.%s: %w", name, f.format, err)
		}
		if _, err := d.Write(name+"."+f.format, f.kind, func(w io.Writer) error { _, err := wt.WriteTo(w); return err }); err != nil {
			return fmt.Errorf("saving the plot: %w", err)
		}
	}
	return nil
}
