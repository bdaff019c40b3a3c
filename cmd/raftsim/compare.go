package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/figures"
	"github.com/raftsim/raftsim/internal/outfile"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/spf13/cobra"
)

type compareFlags struct {
	out         string
	seeds       int
	nodes       int
	profile     string
	worlds      string
	measureMode string
	loss        float64
	datachannel string
	// modelEnv, if set, is the environment profile of the model's runs
	// alone (scenarios.UseProfile); the real worlds run the file as is.
	modelEnv string
	// modelCPUScale multiplies the model's CPU times (world.cpu_scale).
	modelCPUScale float64
}

// commitLatency is the pseudo-measure compare adds for a KV workload: one
// sample per answered write (Result.CommitLatencies).
const commitLatency = "commit-latency"

// messageDelay is the pseudo-measure compare adds for every scenario: one
// sample per delivered Raft message, from its send to its delivery, read
// from the run's trace (sim.MessageDelays).
const messageDelay = "message-delay"

// heartbeatPeriod is the pseudo-measure compare adds for every scenario:
// one sample per period of a heartbeat re-armed as it fires, from its
// arming to its re-arming, read from the run's trace (sim.TimerPeriods):
// the heartbeat's interval, how late its timer ran and its task's work
// before the re-arm. How much longer than the interval it is sets how the
// leader's heartbeats drift against everything else.
const heartbeatPeriod = "heartbeat-period"

func newCompareCmd(stdout io.Writer) *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare FILE",
		Short: "Run a scenario in the model and in real worlds, and compare the measures",
		Long: `compare runs the scenario for --seeds seeds in each of --worlds (default
the model and the real stack, pion over vnet in real time; browser adds
real headless Chromium tabs), then writes, per measure, a table of the
distributions and each world's Kolmogorov-Smirnov distance from the first
world's with its p-value and the distance the sample sizes need to be
significant at 5% (DIR/compare-NAME.md), the samples (DIR/compare-NAME-MEASURE.csv)
and a plot of every world's empirical distribution
(DIR/compare-NAME-MEASURE.png and .svg).

Measures are taken at the instant their condition first holds
(--measure-mode exact), not on the paper's polling grid, unless
--measure-mode says polled (or file: as the scenario says). A scenario
with a KV workload adds the commit-latency measure: one sample per
answered write, from the client's call to its answer. Every scenario adds
the message-delay measure: one sample per delivered Raft message, from
its send to its delivery, as each world's trace stamps them: the
transport each world gives Raft, to tell its part in a difference from
the rest; and the heartbeat-period measure: one sample per period of a
heartbeat re-armed as it fires, from its arming to its re-arming (the
interval, how late its timer ran, its task's work before the re-arm),
which sets how a leader's heartbeats drift against the rest.
--model-environment runs the model alone in an environment
profile (pion-vm, chromium-vm-9-tabs: a real world's transport and
timers as measured on the project's VM; chromium-vm: Chromium's pages
as taking turns on the VM's 2 cores) and the outputs' names say so
(NAME-model-ENV). --loss and --datachannel override the file's network,
and the outputs' names say so (NAME-lossP-MODE).

Output: every file goes inside DIR (created if need be). NAME and MEASURE
come from the scenario and are reduced to safe file names (letters,
digits, '.', '_', '-'; e.g. "a/b" becomes "a-b"). Each file is written to
a temporary file in DIR and renamed into place. An existing file of the
same name is replaced only if it is raftsim's output of the same kind (a
compare report, a samples CSV beginning "world,seconds", a PNG, an SVG);
anything else is refused with an error, as are two measures whose safe
names are the same.`,
		Example: `  raftsim compare scenarios/kill-leader.yaml --seeds 10 --out results/compare
  raftsim compare scenarios/kill-half.yaml --worlds model,pion,browser --seeds 5
  raftsim compare scenarios/kv-commit-latency.yaml --loss 0.05 --datachannel unordered-reliable
  raftsim compare scenarios/kill-leader.yaml --model-environment pion-vm --seeds 20`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("compare takes one scenario file, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, args[0], &f, stdout) },
	}
	cmd.Flags().StringVar(&f.out, "out", "out/compare", "write into `DIR` (results/compare only when a maintainer names it)")
	cmd.Flags().IntVar(&f.seeds, "seeds", 10, "seeds in each world")
	cmd.Flags().IntVar(&f.nodes, "nodes", 0, "cluster size (overrides the file; the outputs' names get -nN after the scenario's)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "network `PROFILE` (overrides the file; the outputs' names end in -PROFILE)")
	cmd.Flags().StringVar(&f.modelEnv, "model-environment", "", "environment `PROFILE` of the model's runs alone: "+strings.Join(scenarios.EnvProfileNames(), ", ")+" (the outputs' names end in -model-PROFILE)")
	cmd.Flags().StringVar(&f.worlds, "worlds", "model,pion", "the `WORLDS` to run, comma-separated, 2 or 3 of model, pion, browser; the first is the one the others are measured against")
	cmd.Flags().StringVar(&f.measureMode, "measure-mode", "exact", "`MODE` of every measure: exact (the instant its condition first holds), polled (as the paper's harness polled), or file (as the scenario says)")
	cmd.Flags().Float64Var(&f.loss, "loss", 0, "loss rate `P` of every link, 0 to 1 (overrides the file and the profile; the outputs' names end in -lossP)")
	cmd.Flags().Float64Var(&f.modelCPUScale, "model-cpu-scale", 1, "the model's CPU times × `X`, 0.1 to 10 (world.cpu_scale): for a machine X times slower than the one its environment's costs were measured on (the outputs' names end in -cpuX)")
	cmd.Flags().StringVar(&f.datachannel, "datachannel", "", "datachannel `MODE`: ordered-reliable, unordered-reliable or unordered-unreliable (overrides the file; the outputs' names end in -MODE)")
	return cmd
}

// parseWorlds reads --worlds: two or three distinct known worlds.
func parseWorlds(s string) ([]string, error) {
	known := map[string]bool{scenarios.WorldModel: true, scenarios.WorldPion: true, scenarios.WorldBrowser: true}
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		switch {
		case !known[w]:
			return nil, fmt.Errorf("--worlds: unknown world %q (want model, pion or browser)", w)
		case seen[w]:
			return nil, fmt.Errorf("--worlds: %s named twice", w)
		}
		seen[w] = true
		out = append(out, w)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("--worlds: want at least two worlds to compare, got %q", s)
	}
	return out, nil
}

func runCompare(cmd *cobra.Command, path string, f *compareFlags, stdout io.Writer) error {
	worlds, err := parseWorlds(f.worlds)
	if err != nil {
		return &usageError{err}
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	o := scenarios.Overrides{Seeds: &f.seeds}
	if cmd.Flags().Changed("nodes") {
		o.Nodes = &f.nodes
	}
	if err := sc.Apply(o); err != nil {
		return &exitError{exitUsage, err}
	}
	name, args := sc.Name, fmt.Sprintf("--seeds %d", sc.Seeds)
	if cmd.Flags().Changed("nodes") {
		name += fmt.Sprintf("-n%d", f.nodes)
		args += fmt.Sprintf(" --nodes %d", f.nodes)
	}
	if f.profile != "" {
		if _, err := netmodel.LookupProfile(f.profile); err != nil {
			return &usageError{fmt.Errorf("--profile: %w", err)}
		}
		sc.World.Profile = f.profile
		name += "-" + f.profile
		args += " --profile " + f.profile
	}
	if f.modelEnv != "" {
		name += "-model-" + f.modelEnv
		args += " --model-environment " + f.modelEnv
	}
	if cmd.Flags().Changed("model-cpu-scale") {
		if err := checkCPUScale("--model-cpu-scale", f.modelCPUScale); err != nil {
			return err
		}
		v := strconv.FormatFloat(f.modelCPUScale, 'g', -1, 64)
		name += "-cpu" + v
		args += " --model-cpu-scale " + v
	}
	if cmd.Flags().Changed("worlds") {
		args += " --worlds " + strings.Join(worlds, ",")
	}
	suffix, more, err := compareSettings(cmd, sc, f)
	if err != nil {
		return err
	}
	name, args = name+suffix, args+more
	model, err := inEnvironment(sc, "--model-environment", f.modelEnv, f.modelCPUScale)
	if err != nil {
		return err
	}
	measures := compareMeasures(sc)
	if _, err := compareNames(name, measures); err != nil {
		return &exitError{exitUsage, err} // before the runs, which take real time
	}
	samples, failed, err := compareRuns(sc, model, worlds)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	report := compareReport(sc, path, args, f.out, name, worlds, measures, samples, failed)
	if err := writeCompare(f.out, name, worlds, measures, samples, report); err != nil {
		return &exitError{exitFailed, err}
	}
	fmt.Fprint(stdout, report)
	return nil
}

// compareSettings applies --measure-mode, --loss and --datachannel to sc
// and returns what they add to the outputs' names and to the command line
// the report gives.
func compareSettings(cmd *cobra.Command, sc *scenarios.Scenario, f *compareFlags) (suffix, args string, err error) {
	switch f.measureMode {
	case "exact", "polled":
		for i := range sc.Measures {
			sc.Measures[i].Mode = f.measureMode
		}
	case "file":
	default:
		return "", "", &usageError{fmt.Errorf("--measure-mode: want exact, polled or file, got %q", f.measureMode)}
	}
	args = " --measure-mode " + f.measureMode
	if cmd.Flags().Changed("loss") {
		if !(f.loss >= 0 && f.loss <= 1) { // NaN fails both
			return "", "", &usageError{fmt.Errorf("--loss: want a rate from 0 to 1, got %v", f.loss)}
		}
		loss := f.loss
		sc.World.Loss = &loss
		v := strconv.FormatFloat(f.loss, 'g', -1, 64)
		suffix += "-loss" + v
		args += " --loss " + v
	}
	if f.datachannel != "" {
		m, err := netmodel.ParseChannelMode(f.datachannel)
		if err != nil {
			return "", "", &usageError{fmt.Errorf("--datachannel: %w", err)}
		}
		sc.World.Datachannel.Mode = m
		suffix += "-" + f.datachannel
		args += " --datachannel " + f.datachannel
	}
	if err := sc.Validate(); err != nil {
		return "", "", &exitError{exitUsage, err}
	}
	return suffix, args, nil
}

// compareMeasures names what compare puts side by side: the scenario's
// measures, then the commit latency if it runs a KV workload.
func compareMeasures(sc *scenarios.Scenario) []string {
	var names []string
	for _, m := range sc.Measures {
		names = append(names, m.Name)
	}
	if sc.Workload.KV != nil {
		names = append(names, commitLatency)
	}
	return append(names, messageDelay, heartbeatPeriod)
}

// inEnvironment is the scenario the model runs: sc itself, or a copy in
// the environment profile env and with its CPU times scaled by cpuScale
// (1: as measured): compare's --model-environment and --model-cpu-scale,
// run's --environment and --cpu-scale. envFlag names the flag that gave
// env, for its error.
func inEnvironment(sc *scenarios.Scenario, envFlag, env string, cpuScale float64) (*scenarios.Scenario, error) {
	if env == "" && cpuScale == 1 {
		return sc, nil
	}
	model := *sc
	if env != "" {
		if err := model.UseProfile(env); err != nil {
			return nil, &usageError{fmt.Errorf("%s: %w", envFlag, err)}
		}
	}
	if cpuScale != 1 {
		model.World.CPUScale = cpuScale
	}
	if err := model.Validate(); err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("the model (environment %q, CPU scale %v): %w", env, cpuScale, err)}
	}
	return &model, nil
}

// checkCPUScale refuses a CPU scale flag's value outside [0.1, 10] (NaN
// too).
func checkCPUScale(flag string, x float64) error {
	if !(x >= 0.1 && x <= 10) { // NaN fails both
		return &usageError{fmt.Errorf("%s: want a factor from 0.1 to 10, got %v", flag, x)}
	}
	return nil
}

// compareRuns runs the scenario's seeds in each world (the model runs
// model, the real worlds sc) and collects each measure's samples
// (measure -> world -> seconds) and each world's runs that failed a
// check.
func compareRuns(sc, model *scenarios.Scenario, worlds []string) (map[string]map[string][]float64, map[string]int, error) {
	samples := map[string]map[string][]float64{}
	failed := map[string]int{}
	for i := range sc.Seeds {
		seed := sc.Seed + uint64(i)
		for _, world := range worlds {
			run := sc
			if world == scenarios.WorldModel {
				run = model
			}
			res, fromTrace, err := compareRun(run, seed, world)
			if err != nil {
				return nil, nil, err
			}
			if !res.OK {
				failed[world]++
			}
			add := func(name string, vs ...float64) {
				if samples[name] == nil {
					samples[name] = map[string][]float64{}
				}
				samples[name][world] = append(samples[name][world], vs...)
			}
			for name, v := range res.Measures {
				if v != nil {
					add(name, *v)
				}
			}
			if len(res.CommitLatencies) > 0 {
				add(commitLatency, res.CommitLatencies...)
			}
			for name, vs := range fromTrace {
				add(name, vs...)
			}
		}
	}
	return samples, failed, nil
}

// compareRun runs one seed in one world and returns its result and what
// its trace gives (seconds): the delays of its delivered messages and its
// heartbeat periods.
func compareRun(sc *scenarios.Scenario, seed uint64, world string) (*scenarios.Result, map[string][]float64, error) {
	var trace bytes.Buffer
	res, err := scenarios.Run(sc, seed, scenarios.RunOptions{World: world, Trace: &trace})
	if err != nil {
		return nil, nil, err
	}
	events, err := sim.ReadTrace(&trace)
	if err != nil {
		return nil, nil, fmt.Errorf("%s seed %d: reading its trace: %w", world, seed, err)
	}
	fromTrace := map[string][]float64{}
	for _, d := range sim.MessageDelays(events) {
		fromTrace[messageDelay] = append(fromTrace[messageDelay], d.Seconds())
	}
	for _, p := range sim.TimerPeriods(events, raft.TimerHeartbeat.String()) {
		fromTrace[heartbeatPeriod] = append(fromTrace[heartbeatPeriod], (p.After + p.Late + p.Work).Seconds())
	}
	return res, fromTrace, nil
}

// compareReport is the markdown table of the measures' distributions:
// each world's row, with its KS distance from the first world's.
func compareReport(sc *scenarios.Scenario, path, args, out, name string, worlds, measures []string, samples map[string]map[string][]float64, failed map[string]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: model against the real stack\n\n", name)
	var fails []string
	for _, w := range worlds {
		fails = append(fails, fmt.Sprintf("%s %d", w, failed[w]))
	}
	fmt.Fprintf(&b, "`raftsim compare %s %s --out %s`: %d nodes, ET %v, profile %s, %d seeds in each world; runs that failed a check: %s. KS distance: from %s's distribution.\n\n",
		path, args, out, sc.Cluster.Nodes, sc.Cluster.ElectionTimeout, sc.World.Profile, sc.Seeds, strings.Join(fails, ", "), worlds[0])
	if slices.Contains(measures, commitLatency) {
		fmt.Fprintf(&b, "%s: one sample per answered put or cas, from the client's call to its answer.\n\n", commitLatency)
	}
	fmt.Fprintf(&b, "%s: one sample per delivered Raft message, from its send to its delivery as the world's trace stamps them.\n\n", messageDelay)
	fmt.Fprintf(&b, "%s: one sample per period of a heartbeat re-armed as it fires, from its arming to its re-arming: the interval, its timer's lateness and its task's work before the re-arm.\n\n", heartbeatPeriod)
	fmt.Fprintf(&b, "KS p: the chance of a distance at least this large if both worlds drew from one distribution; 5%% critical: the distance these sample sizes need to tell two worlds apart at 5%%, none if no distance can (figures.KSPValue, figures.KSCritical: exact up to 250,000 pairs of samples).\n\n")
	fmt.Fprintf(&b, "| measure | world | samples | mean s | min s | median s | max s | KS distance | KS p | 5%% critical |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range measures {
		s := samples[m]
		for i, world := range worlds {
			sum := figures.Summarize(s[world])
			ks := "- | - | -"
			if i > 0 {
				ks = ksCells(s[worlds[0]], s[world])
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", m, world, sum.N, seconds(sum.Mean), seconds(sum.Min), seconds(sum.P50), seconds(sum.Max), ks)
		}
	}
	return b.String()
}

// seconds formats a time in seconds to four significant digits, so a
// message's fraction of a millisecond reads as well as a start-up.
func seconds(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// ksCells are a world's KS distance from the reference sample, its
// p-value and the 5% critical distance, as three table cells; "none"
// when samples this small cannot differ at 5% (3 a side: even disjoint
// samples have p 0.1).
func ksCells(ref, s []float64) string {
	d := figures.KS(ref, s)
	crit := "none"
	if figures.KSPValue(1, len(ref), len(s)) <= 0.05 {
		crit = fmt.Sprintf("%.2f", figures.KSCritical(0.05, len(ref), len(s)))
	}
	return fmt.Sprintf("%.2f | %.3f | %s", d, figures.KSPValue(d, len(ref), len(s)), crit)
}

// compareNames returns the base name of each measure's files
// (compare-NAME-MEASURE, safe names), refusing two measures with the same.
func compareNames(name string, measures []string) ([]string, error) {
	var out []string
	by := map[string]string{}
	for _, m := range measures {
		base := "compare-" + outfile.SafeName(name) + "-" + outfile.SafeName(m)
		if prev, ok := by[base]; ok {
			return nil, fmt.Errorf("measures %q and %q would both be written as %s.*", prev, m, base)
		}
		by[base] = m
		out = append(out, base)
	}
	return out, nil
}

// compareMarkdown is a compare report: the marker first, or (written
// before the marker) a "# NAME: model against the real stack" title.
var compareMarkdown = outfile.NewKind("raftsim compare report", func(h []byte) bool {
	first, _, _ := bytes.Cut(h, []byte("\n"))
	return bytes.HasPrefix(h, []byte(outfile.MarkdownMarker)) ||
		bytes.HasPrefix(first, []byte("# ")) && bytes.HasSuffix(first, []byte(": model against the real stack"))
})

// writeCompare writes the samples, plots and report inside dir.
func writeCompare(dir, name string, worlds, measures []string, samples map[string]map[string][]float64, report string) error {
	bases, err := compareNames(name, measures)
	if err != nil {
		return err
	}
	d, err := outfile.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for i, m := range measures {
		s := samples[m]
		p, err := figures.ECDFPlot(fmt.Sprintf("%s: %s, %s", name, m, strings.Join(worlds, " / ")), s, worlds)
		if err != nil {
			return err
		}
		if _, err := d.Write(bases[i]+".csv", outfile.SamplesCSV, func(w io.Writer) error {
			fmt.Fprintln(w, "world,seconds")
			for _, world := range worlds {
				for _, v := range s[world] {
					if _, err := fmt.Fprintf(w, "%s,%.6f\n", world, v); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if err := figures.SaveIn(d, p, bases[i]); err != nil {
			return err
		}
	}
	_, err = d.Write("compare-"+outfile.SafeName(name)+".md", compareMarkdown, func(w io.Writer) error {
		_, err := io.WriteString(w, outfile.MarkdownMarker+"\n"+report)
		return err
	})
	return err
}
