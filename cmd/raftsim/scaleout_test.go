package main

// Scale-out: a sweep's shards run as separate processes (GNU parallel, a
// Kubernetes Indexed Job: deploy/) and merged give the single-process
// sweep. docs/scale-out.md describes it; its command lines are checked
// here too.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

const (
	startupSweep = "../../scenarios/examples/startup-sweep.yaml" // 40 runs
	repoRoot     = "../.."
)

// built is the raftsim binary the package's tests share: linking it
// takes 2.3 s of a core (2026-11-25), once is enough. TestMain removes
// its directory.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// buildRaftsim builds the raftsim binary, once for the package's tests,
// and returns its path.
func buildRaftsim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the raftsim binary: not with -short")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "raftsim-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "raftsim")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// requireGNUParallel returns GNU parallel's path, or skips t without it
// (fails it in CI, CI=true, which must install it: .ci/run).
func requireGNUParallel(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("parallel")
	if err == nil {
		// moreutils has another program called parallel.
		v, _ := exec.Command(p, "--version").Output()
		if !bytes.Contains(v, []byte("GNU parallel")) {
			err = fmt.Errorf("%s is not GNU parallel (moreutils'?)", p)
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("GNU parallel not found (%v); CI must install it (apt-get install parallel)", err)
		}
		t.Skipf("GNU parallel not found (%v): install Debian's parallel (apt-get install parallel) to run this test", err)
	}
	return p
}

// run runs name with args in dir (the test's directory if "") with env
// added to the environment, and fails t unless it exits 0.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %q\nstdout: %s\nstderr: %s", name, args, stdout.String(), stderr.String())
	return stdout.String()
}

// sweepRows reads a sweep CSV and returns its lines without the
// wall_seconds column (wall time, the only one that differs between runs
// of the same sweep), the closing "# raftsim sweep: N rows" line
// included.
func sweepRows(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.NotEmpty(t, lines)
	header := strings.Split(lines[0], ",")
	wall := -1
	for i, c := range header {
		if c == "wall_seconds" {
			wall = i
		}
	}
	require.GreaterOrEqual(t, wall, 0, "%s: no wall_seconds column in %q", path, lines[0])
	var out []string
	for i, line := range lines {
		if strings.HasPrefix(line, "#") {
			out = append(out, line)
			continue
		}
		f := strings.Split(line, ",")
		require.Len(t, f, len(header), "%s:%d", path, i+1)
		out = append(out, strings.Join(append(f[:wall:wall], f[wall+1:]...), ","))
	}
	return out
}

// wholeSweep runs the sweep of scenario in one process into a new
// directory and returns the CSV's rows (sweepRows).
func wholeSweep(t *testing.T, bin, scenario string) []string {
	t.Helper()
	dir := t.TempDir()
	out := run(t, "", nil, bin, "sweep", scenario, "--out", dir)
	assert.Contains(t, out, "40 runs")
	return sweepRows(t, filepath.Join(dir, "startup-sweep.csv"))
}

func TestScaleOutParallelShardsMergeIntoTheWholeSweep(t *testing.T) {
	parallel := requireGNUParallel(t)
	bin := buildRaftsim(t)
	dir := t.TempDir()
	shards := filepath.Join(dir, "shards")

	// docs/scale-out.md's command, with the binary and the paths of the test.
	run(t, "", nil, parallel, "-j", "2", bin, "sweep", startupSweep, "--out", shards, "--workers", "1", "--shard", "{}/4", ":::", "1", "2", "3", "4")
	var files []string
	for k := 1; k <= 4; k++ {
		f := filepath.Join(shards, fmt.Sprintf("startup-sweep.shard%dof4.csv", k))
		assert.Len(t, sweepRows(t, f), 1+10+1, "%s: a header, 10 rows (40 runs / 4) and the closing line", f)
		files = append(files, f)
	}
	merged := filepath.Join(dir, "all.csv")
	out := run(t, "", nil, bin, append([]string{"merge", "--out", merged}, files...)...)
	assert.Contains(t, out, "merged 4 files, 40 runs")

	whole := wholeSweep(t, bin, startupSweep)
	require.Len(t, whole, 1+40+1)
	// merge sorts by election timeout, nodes and seed: the sweep's own
	// order, as the file lists its axes in ascending order. So the same
	// rows in the same order.
	assert.Equal(t, whole, sweepRows(t, merged), "the merged shards are the single-process sweep, but for wall time")
}

// k8sObject is the part of a Kubernetes manifest the tests read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		// Job
		CompletionMode string `yaml:"completionMode"`
		Completions    *int   `yaml:"completions"`
		Parallelism    *int   `yaml:"parallelism"`
		Template       struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// Pod
		podSpec `yaml:",inline"`
	} `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy string `yaml:"restartPolicy"`
	Containers    []struct {
		Name         string   `yaml:"name"`
		Image        string   `yaml:"image"`
		Command      []string `yaml:"command"`
		Args         []string `yaml:"args"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// readManifest decodes every document of a YAML manifest.
func readManifest(t *testing.T, path string) []k8sObject {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if err == io.EOF {
			break
		}
		require.NoError(t, err, path)
		require.NotEmpty(t, o.Kind, "%s: document %d has no kind", path, len(out)+1)
		out = append(out, o)
	}
	return out
}

var (
	// shardArith is the Job's shard: the 0-based completion index plus
	// one, of N.
	shardArith = regexp.MustCompile(`--shard \$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/(\d+)(\s|$)`)
	// k8sVarRef is a reference Kubernetes would expand in a command
	// itself, before the shell sees it.
	k8sVarRef = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)
)

func TestScaleOutIndexedJobRunsEveryShard(t *testing.T) {
	objs := readManifest(t, filepath.Join(repoRoot, "deploy/sweep-job.yaml"))
	var job *k8sObject
	claims := map[string]bool{}
	for i := range objs {
		switch objs[i].Kind {
		case "Job":
			require.Nil(t, job, "one Job")
			job = &objs[i]
		case "PersistentVolumeClaim":
			claims[objs[i].Metadata.Name] = true
		}
	}
	require.NotNil(t, job, "deploy/sweep-job.yaml has a Job")
	assert.Equal(t, "batch/v1", job.APIVersion)
	assert.Equal(t, "raftsim-sweep", job.Metadata.Name, "docs/scale-out.md waits for job/raftsim-sweep")
	require.Equal(t, "Indexed", job.Spec.CompletionMode, "an Indexed Job: each pod gets JOB_COMPLETION_INDEX")
	require.NotNil(t, job.Spec.Completions)
	n := *job.Spec.Completions
	require.Positive(t, n)
	require.NotNil(t, job.Spec.Parallelism)
	assert.True(t, *job.Spec.Parallelism >= 1 && *job.Spec.Parallelism <= n, "parallelism %d of %d completions", *job.Spec.Parallelism, n)
	pod := job.Spec.Template.Spec
	assert.Contains(t, []string{"Never", "OnFailure"}, pod.RestartPolicy, "a Job's pods")
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.NotEmpty(t, c.Image)
	require.Len(t, c.Command, 3, "command: [sh, -c, SCRIPT]")
	require.Equal(t, []string{"sh", "-c"}, c.Command[:2])
	assert.Empty(t, c.Args)
	script := c.Command[2]
	m := shardArith.FindStringSubmatch(script)
	require.NotNil(t, m, "the shard is $((JOB_COMPLETION_INDEX + 1))/N: %q", script)
	assert.Equal(t, strconv.Itoa(n), m[1], "--shard K/%s for %d completions", m[1], n)
	assert.Empty(t, k8sVarRef.FindAllString(script, -1), "Kubernetes would expand these itself")

	// The scenario comes from a ConfigMap, the shards go to a claim the
	// manifest makes.
	bin := buildRaftsim(t)
	scenarioDir, outDir := t.TempDir(), t.TempDir()
	mounts := map[string]string{} // mount path in the pod -> directory here
	var configMap string
	for _, vm := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			switch {
			case v.Name != vm.Name:
			case v.ConfigMap != nil:
				configMap = v.ConfigMap.Name
				mounts[vm.MountPath] = scenarioDir
			case v.PersistentVolumeClaim != nil:
				assert.True(t, claims[v.PersistentVolumeClaim.ClaimName], "claim %q is in the manifest", v.PersistentVolumeClaim.ClaimName)
				mounts[vm.MountPath] = outDir
			}
		}
	}
	require.NotEmpty(t, configMap, "a ConfigMap volume for the scenario")
	require.Len(t, mounts, 2, "the scenario's and the output's volumes are mounted")

	// The command line with the pod's paths made the test's: the scenario
	// file, named in the command, is the example the docs put in the
	// ConfigMap.
	words := strings.Split(script, " ")
	var scenario string
	for i, w := range words {
		for in, here := range mounts {
			if w == in || strings.HasPrefix(w, in+"/") {
				words[i] = here + strings.TrimPrefix(w, in)
				if here == scenarioDir {
					scenario = strings.TrimPrefix(w, in+"/")
				}
			}
		}
	}
	require.NotEmpty(t, scenario, "the command names a file in the ConfigMap: %q", script)
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs/scale-out.md"))
	require.NoError(t, err)
	assert.Contains(t, string(doc), "kubectl create configmap "+configMap+" --from-file=scenarios/examples/"+scenario)
	assert.Contains(t, string(doc), "sh -c '"+script+"'", "docs/scale-out.md shows the Job's command")
	b, err := os.ReadFile(filepath.Join(repoRoot, "scenarios/examples", scenario))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(scenarioDir, scenario), b, 0o644))
	local := strings.Join(words, " ")

	// Every index, as Kubernetes runs it: sh does the arithmetic, and the
	// raftsim found on the PATH is the one built here.
	path := "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	var files []string
	for i := 0; i < n; i++ {
		run(t, "", []string{path, "JOB_COMPLETION_INDEX=" + strconv.Itoa(i)}, "sh", "-c", local)
		f := filepath.Join(outDir, fmt.Sprintf("startup-sweep.shard%dof%d.csv", i+1, n))
		require.FileExists(t, f, "index %d writes shard %d/%d", i, i+1, n)
		files = append(files, f)
	}
	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	assert.Len(t, entries, n, "one file a shard, nothing else")

	merged := filepath.Join(t.TempDir(), "all.csv")
	out := run(t, "", nil, bin, append([]string{"merge", "--out", merged}, files...)...)
	assert.Contains(t, out, fmt.Sprintf("merged %d files, 40 runs", n))
	assert.Equal(t, wholeSweep(t, bin, filepath.Join(scenarioDir, scenario)), sweepRows(t, merged), "the Job's shards merge into the whole sweep")

	// The pod that collects the shards mounts the same claim.
	collect := readManifest(t, filepath.Join(repoRoot, "deploy/collect-pod.yaml"))
	require.Len(t, collect, 1)
	assert.Equal(t, "Pod", collect[0].Kind)
	assert.Equal(t, "raftsim-collect", collect[0].Metadata.Name)
	require.Len(t, collect[0].Spec.Volumes, 1)
	require.NotNil(t, collect[0].Spec.Volumes[0].PersistentVolumeClaim)
	assert.True(t, claims[collect[0].Spec.Volumes[0].PersistentVolumeClaim.ClaimName])
	require.Len(t, collect[0].Spec.Containers, 1)
	assert.Equal(t, c.Image, collect[0].Spec.Containers[0].Image, "the same image (it has tar for kubectl cp)")
}

func TestScaleOutJobDockerfileBuildsRaftsim(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/Dockerfile"))
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(gomod))
	require.NotNil(t, goLine)

	var froms, lines []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
		if strings.HasPrefix(line, "FROM ") {
			froms = append(froms, line)
		}
	}
	require.GreaterOrEqual(t, len(froms), 2, "a multi-stage build")
	build := regexp.MustCompile(`^FROM golang:(\d+)\.(\d+)\S* AS (\S+)$`).FindStringSubmatch(froms[0])
	require.NotNil(t, build, "the first stage builds with a golang image: %q", froms[0])
	major, _ := strconv.Atoi(build[1])
	minor, _ := strconv.Atoi(build[2])
	wantMajor, _ := strconv.Atoi(goLine[1])
	wantMinor, _ := strconv.Atoi(goLine[2])
	assert.True(t, major > wantMajor || major == wantMajor && minor >= wantMinor, "golang:%s.%s is older than go.mod's go %s.%s", build[1], build[2], goLine[1], goLine[2])
	assert.NotContains(t, froms[len(froms)-1], "golang", "the runtime image is a small one")

	stage := build[3]
	var built, copied bool
	for _, line := range lines {
		if m := regexp.MustCompile(`^RUN .*\bgo build\b.* -o (\S+) \./cmd/raftsim$`).FindStringSubmatch(line); m != nil {
			built = true
			for _, l := range lines {
				if strings.HasPrefix(l, "COPY --from="+stage+" "+m[1]+" ") {
					copied = true
				}
			}
		}
	}
	assert.True(t, built, "the build stage builds ./cmd/raftsim")
	assert.True(t, copied, "the runtime stage copies the binary from the %s stage", stage)
	assert.Contains(t, string(b), "CGO_ENABLED=0", "a static binary, for Alpine")
}

// scaleOutCommand finds a raftsim command line in docs/scale-out.md,
// inside a parallel or sh -c line too (doccmd_test.go checks only lines
// that start with raftsim).
var scaleOutCommand = regexp.MustCompile(`(?:^|[\s'])raftsim (.*)$`)

func TestScaleOutDocCommandsAreCurrent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs/scale-out.md"))
	require.NoError(t, err)
	var cmds []string
	inCode := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if m := scaleOutCommand.FindStringSubmatch(line); inCode && m != nil {
			cmds = append(cmds, line)
		}
	}
	var seen []string
	for _, line := range cmds {
		rest := scaleOutCommand.FindStringSubmatch(line)[1]
		if strings.HasPrefix(line, "parallel ") {
			// parallel ... raftsim ... --shard {}/N ::: 1 2 ... N
			cmd, inputs, ok := strings.Cut(rest, " ::: ")
			require.True(t, ok, "%q", line)
			n := len(strings.Fields(inputs))
			assert.Contains(t, cmd, fmt.Sprintf("--shard {}/%d", n), "%q: one input a shard", line)
			for k, in := range strings.Fields(inputs) {
				assert.Equal(t, strconv.Itoa(k+1), in, "%q", line)
			}
			rest = strings.ReplaceAll(cmd, "{}", "1")
		}
		if strings.HasPrefix(line, "sh -c '") {
			rest = strings.TrimSuffix(rest, "'")
			rest = strings.ReplaceAll(rest, "$((JOB_COMPLETION_INDEX + 1))", "1")
		}
		require.NotContainsf(t, rest, `"`, "%q: no quoting in the commands checked here", line)
		require.NotContainsf(t, rest, `'`, "%q: no quoting in the commands checked here", line)
		args := strings.Fields(rest)

		root := newRoot(io.Discard, io.Discard)
		cmd, flags, err := root.Find(args)
		require.NoError(t, err, "%q", line)
		require.NotEqual(t, root, cmd, "%q: a raftsim command", line)
		require.NoError(t, cmd.ParseFlags(flags), "%q", line)
		pos := cmd.Flags().Args()
		require.NoError(t, cmd.ValidateArgs(pos), "%q", line)
		require.NoError(t, cmd.ValidateRequiredFlags(), "%q", line)
		seen = append(seen, cmd.Name())
		switch cmd.Name() {
		case "sweep":
			assert.True(t, cmd.Flags().Changed("out"), "%q: sweep needs --out", line)
			shard, _ := cmd.Flags().GetString("shard")
			_, _, err := parseShard(shard)
			assert.NoError(t, err, "%q", line)
			if !strings.HasPrefix(line, "sh -c") {
				assert.FileExists(t, filepath.Join(repoRoot, pos[0]), "%q: run from the repository root", line)
			}
		case "merge":
			assert.True(t, cmd.Flags().Changed("out"), "%q: merge needs --out", line)
			for _, p := range pos {
				assert.Regexp(t, `^\S+/startup-sweep\.shard\*of\d+\.csv$`, p, "%q: the shards' names", line)
			}
		default:
			t.Errorf("%q: not a sweep or merge", line)
		}
	}
	assert.Equal(t, []string{"sweep", "sweep", "merge", "sweep", "merge"}, seen, "docs/scale-out.md's raftsim commands: workers, parallel and merge, the Job's and merge")
}
